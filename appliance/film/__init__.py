"""What is made from a sealed recording, and how it is played.

clips       clips and stills cut from a recording, reading only what they need
marks       marks tagged with the Principles, linked to the goals
principles  the Principles of Attuned Interaction and Guidance
overview    the filmstrip and the sound's peaks for the editor
playable    a recording served with a segment index (``sidx``)
deletion    deleting one recording, clip or still before the wipe
"""
