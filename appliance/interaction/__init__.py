"""The interaction map: who spoke when (adult or child), the turns
between them, the adult's waits, and moments worth a look, computed on
the box from a sealed film's sound, sealed in turn. Suggestions only:
the guider decides what a moment shows.

frames   the 10 ms grid and one-minute blocks
speech   voice activity (webrtcvad)
pitch    F0 by YIN in numpy
speakers speech cut into segments, each called adult or child
turns    turns, waits, talk share and the suggested moments
analysis one film's sound to an InteractionMap
sealed   from and to the store
"""
