"""Supervision: chosen clips for a supervisor, and their comments back.

export    the clips as one tar archive, sealed with age
page      the same export as one page a supervisor opens offline
comments  the comments the page sealed back to this box
"""
