"""The intervention the box follows, from set-up to handover.

record        the intervention: label, goals and scaling, cycles, reviews
consent       the consent record, and what it allows
setup_window  an empty box is set up only while its holder asks
evaluation    the evaluation summary, with no name and no footage
handout       the practitioner's handout for the adult filmed
handovers     every handover this box has made
"""
