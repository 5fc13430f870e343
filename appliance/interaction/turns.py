"""Turns between adult and child, the adult's waits, each one's share of
the talk, and the moments a guider might look at first.

A turn, as LENA counts conversational turns: an adult's segment then a
child's (or the reverse), the second beginning within MAX_GAP of the
first's end, with no other speech between. Its limits, which LENA's own
validation found (turn counts against hand counts, r of about .36):
two people speaking near each other by chance count as a turn, and a
turn is only as right as the two segments' classes.

>>> from .speakers import Segment
>>> said = [Segment(1, 3, "child", 300), Segment(5.1, 7, "adult", 200),
...         Segment(7.5, 9, "child", 310)]
>>> [(t.after, t.at, t.way) for t in turns(said)]
[(3, 5.1, 'child>adult'), (7, 7.5, 'adult>child')]
>>> [m.why for m in moments(said)]
['the child speaks; the adult waits 2.1 s, then answers; 2 turns in all']
>>> [(m.start, m.end) for m in moments(said, duration=9.5)]
[(0.0, 9.5)]
"""

from dataclasses import dataclass

from .speakers import Segment

MAX_GAP = 5.0                # seconds between the two sides of a turn (LENA's)
LONG_WAIT = 2.0              # an adult's wait after a child this long is shown on the map
RECEIVING = (0.8, 4.0)       # a wait that lets the child finish, and is still an answer
BEFORE, AFTER = 1.0, 1.0     # seconds of film either side of a moment
LONGEST_MOMENT = 30.0
MOMENTS = 30                 # at most this many, best first


@dataclass(frozen=True)
class Turn:
    after: float             # when the first side stopped
    at: float                # when the other side began
    way: str                 # "child>adult" or "adult>child"

    @property
    def wait(self) -> float:
        return round(self.at - self.after, 2)

    def row(self) -> list:
        return [self.after, self.at, self.way]


@dataclass(frozen=True)
class Moment:
    start: float
    end: float
    at: float                # the adult's answer
    wait: float
    turns: int
    why: str

    def row(self) -> dict:
        return {"start": self.start, "end": self.end, "at": self.at, "wait": self.wait,
                "turns": self.turns, "why": self.why}


def turns(segments: list[Segment]) -> list[Turn]:
    out = []
    for first, second in zip(segments, segments[1:]):
        if {first.speaker, second.speaker} == {"adult", "child"} \
                and 0 <= second.start - first.end <= MAX_GAP:
            out.append(Turn(first.end, second.start, f"{first.speaker}>{second.speaker}"))
    return out


def exchanges(segments: list[Segment]) -> list[list[Segment]]:
    """Runs of segments each joined to the next by a turn."""
    runs, run = [], segments[:1]
    for first, second in zip(segments, segments[1:]):
        if turns([first, second]):
            run.append(second)
        else:
            runs.append(run)
            run = [second]
    return [r for r in runs + [run] if len(r) > 1]


def moments(segments: list[Segment], duration: float | None = None) -> list[Moment]:
    """Each exchange in which the adult answers the child, best first:
    more turns, then a wait that received the child (RECEIVING). Each
    lies inside the film (``duration``) and holds the adult's answer, however
    long the child spoke before it (then it starts nearer the answer)."""
    found = []
    for run in exchanges(segments):
        pairs = list(zip(run, run[1:]))
        answer = next(((c, a) for c, a in pairs if c.speaker == "child"), None)
        if answer is None:
            continue
        child, adult = answer
        wait = round(adult.start - child.end, 2)
        start = max(0.0, child.start - BEFORE, adult.start - LONGEST_MOMENT / 2)
        end = min(run[-1].end + AFTER, start + LONGEST_MOMENT,
                  duration if duration is not None else float("inf"))
        count = len(pairs) - pairs.index(answer)
        waits = f"waits {wait:.1f} s, then answers" if wait >= 0.1 else "answers at once"
        why = f"the child speaks; the adult {waits}; {count} turn{'s' * (count != 1)} in all"
        found.append(Moment(round(start, 2), round(end, 2), adult.start, wait, count, why))
    low, high = RECEIVING
    found.sort(key=lambda m: (-(m.turns + (low <= m.wait <= high)), -m.wait, m.start))
    return found[:MOMENTS]


def talk_share(segments: list[Segment]) -> dict[str, float]:
    """Each class's share of all speech, 0..1."""
    spoken = {speaker: 0.0 for speaker in ("adult", "child", "unknown")}
    for segment in segments:
        spoken[segment.speaker] += segment.end - segment.start
    total = sum(spoken.values()) or 1.0
    return {speaker: round(seconds / total, 3) for speaker, seconds in spoken.items()}
