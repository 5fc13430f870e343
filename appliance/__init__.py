"""vigbox: a Raspberry Pi appliance for Video Interaction Guidance.

This package holds everything that runs on the device itself: the sealed
store (age v1 files), intervention keys, the catalog, capture, audit and
wipe. It never imports Flask; the web editor lives in :mod:`web`.
"""

__version__ = "0.1.0"
