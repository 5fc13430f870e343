"""How near a take is to the box's limit, for the record screen: a guider
filming a child must know before the box stops the take, not after it.
Warned at 25 and 29 minutes of the usual 30 (five and one before the limit).

>>> time_left(1490, 1800), time_left(1500, 1800), time_left(1740, 1800)
(None, 'soon', 'ending')
"""

SOON_SECONDS = 5 * 60   # "five minutes left"
ENDING_SECONDS = 60     # "under a minute left"


def time_left(elapsed: float, limit: float) -> str | None:
    """``"ending"``, ``"soon"`` or None, from a take's seconds and the limit's."""
    left = limit - elapsed
    if left <= ENDING_SECONDS:
        return "ending"
    if left <= SOON_SECONDS:
        return "soon"
    return None
