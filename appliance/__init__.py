"""vigbox: a Raspberry Pi appliance for Video Interaction Guidance.

This package holds everything that runs on the device itself, one room
per part of the box; the page lives in :mod:`web`, and :mod:`vigbox`
joins the two. Nothing here imports Flask (``tests/test_imports.py``).

age           the age v1 file format: every sealed byte
store         the sealed store: objects, catalog, keys, volume
capture       the recorder: from the button to a sealed recording
film          what is made from a recording: clips, marks, overview
interaction   the interaction map: who spoke when, suggested moments
intervention  the intervention: consent, goals, evaluation, handout
supervision   the export for a supervisor and the comments back
audit         the tamper-evident log, the device key, certificates
wipe          the cryptographic erase and its certificate
https         the page's servers: nginx in front, waitress behind
cli           the ``vigbox`` commands of these parts
errors, config, clock, clock_helper, label, one_at_a_time
              the exception hierarchy, the settings, the box's clock,
              its printed label, and one-job-at-a-time workers
"""

__version__ = "0.1.0"
