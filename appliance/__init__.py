"""vigbox: a Raspberry Pi appliance for Video Interaction Guidance.

This package holds everything that runs on the device itself: the sealed
store (age v1 files), intervention keys, the catalog, capture, audit and
wipe. The web editor lives in :mod:`web`; the domain modules never import
Flask. Two entry points do, inside functions: ``vigbox web``/``run``
(:mod:`.cli_run` builds the app) and ``vigbox tls`` (:mod:`.cli_tls` reads
the page's host rules).
"""

__version__ = "0.1.0"
