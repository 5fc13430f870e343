"""A stand-in for kms++'s Python module (``pykms``), for Debian 13 only.

picamera2 imports it unconditionally for its DRM preview window
(picamera2/previews/drm_preview.py); Raspberry Pi OS ships it as
python3-kms++, Debian does not package kms++ at all. vigbox never opens
a preview window (the box has no display), so this only lets the import
succeed: the names picamera2 reads when the module loads exist, and
anything that would touch a display fails saying why. Installed into
the test VM and the camera tests' root by tests/system/device-stack.sh;
never on a Pi (docs/hardware-checklist.md).
"""


class _Names:
    """Pixel formats and plane types: their names stand for themselves."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return name


PixelFormat = _Names()
PlaneType = _Names()


def _no_display(*_args, **_kwargs):
    raise OSError("no display here: kms++ stand-in (tests/system/pykms.py)")


Card = ResourceManager = AtomicReq = DumbFramebuffer = DmabufFramebuffer = _no_display
