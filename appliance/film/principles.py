"""The Principles of Attuned Interaction and Guidance, the vocabulary VIG
guiders tag moments with. Stored by code ("1.3"), shown by name.

>>> PRINCIPLES["1"].name
'Being attentive'
>>> name_of("3.4")
'Receiving initiatives: returning eye contact, smiling, nodding in response'
>>> check_tags(["2", "9.9"])
Traceback (most recent call last):
...
ValueError: unknown principle codes ['9.9']
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Principle:
    code: str
    name: str
    items: tuple[str, ...]


_TABLE = [
    ("Being attentive", (
        "looking interested with friendly posture",
        "giving time and space for the other",
        "turning towards",
        "wondering about what they are doing, thinking or feeling",
        "enjoying watching the other")),
    ("Encouraging initiatives", (
        "waiting",
        "listening actively",
        "showing emotional warmth through intonation",
        "naming positively what you see, think or feel",
        "using friendly and/or playful intonation as appropriate",
        "saying what you are doing",
        "looking for initiatives")),
    ("Receiving initiatives", (
        "showing you have heard, noticed the other's initiative",
        "receiving with body language",
        "being friendly and/or playful as appropriate",
        "returning eye contact, smiling, nodding in response",
        "receiving what the other is saying or doing with words",
        "repeating or using the other's words or phrases")),
    ("Developing attuned interactions", (
        "receiving and then responding",
        "checking the other is understanding you",
        "waiting attentively for your turn",
        "having fun",
        "giving a second (and further) turn on the same topic",
        "giving and taking short turns",
        "contributing to the interaction or activity equally",
        "cooperating, helping each other")),
    ("Guiding", (
        "scaffolding",
        "extending, building on the other's response",
        "judging the amount of support required and adjusting",
        "giving information when needed",
        "providing help when needed",
        "offering choices that the other can understand",
        "making suggestions that the other can follow")),
    ("Deepening discussion", (
        "supporting goal-setting",
        "sharing viewpoints",
        "collaborative discussion and problem-solving",
        "naming difference of opinion",
        "investigating the intentions behind words",
        "naming contradictions or conflicts (real or potential)",
        "reaching new shared understandings",
        "managing conflict: back to being attentive and receiving initiatives")),
]

PRINCIPLES = {str(n): Principle(str(n), name, items) for n, (name, items) in enumerate(_TABLE, 1)}
CODES = frozenset(PRINCIPLES) | {f"{p}.{i}" for p, pr in PRINCIPLES.items()
                                 for i in range(1, len(pr.items) + 1)}


def name_of(code: str) -> str:
    principle, _, item = code.partition(".")
    name = PRINCIPLES[principle].name
    return f"{name}: {PRINCIPLES[principle].items[int(item) - 1]}" if item else name


def check_tags(tags) -> list[str]:
    """The tags as a sorted list of known codes, or ValueError naming the rest."""
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError(f"tags must be a list of principle codes, not {tags!r:.40}")
    unknown = sorted(set(tags) - CODES)
    if unknown:
        raise ValueError(f"unknown principle codes {unknown}")
    return sorted(set(tags), key=lambda c: [int(x) for x in c.split(".")])


def as_json() -> list[dict]:
    return [{"code": p.code, "name": p.name,
             "items": [{"code": f"{p.code}.{i}", "name": item}
                       for i, item in enumerate(p.items, 1)]} for p in PRINCIPLES.values()]
