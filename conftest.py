"""The doctests of the modules that need the Pi's camera stack (libcamera's
Python bindings, which Debian 12 does not package, and numpy, which
comes with picamera2) run with the camera tests in a Debian 13 root
(tests/camera/run.sh, the second half of ``make test``), not here."""

import importlib.util

CAMERA_STACK_MODULES = ["appliance/capture/virtual_sensor.py",
                        "appliance/capture/preview_frame.py"]
collect_ignore = [] if importlib.util.find_spec("libcamera") else CAMERA_STACK_MODULES
