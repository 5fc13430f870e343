"""The guest's own scripts (run inside the VM, with its Python and its
devices) are installed there by image.sh, not collected here."""

collect_ignore = ["button_walk.py", "capture_rate.py", "clicks.py", "sync_check.py",
                  "pykms.py"]
