"""Measure sound against picture in a recording given on stdin (the
decrypted MP4 comes through a pipe: nothing is written): the offset of
each beep from the nearest flash of the mark, at the start and the end.
Prints one line: SYNC <take> start=[ms, ...] end=[ms, ...] marks=N, and
whether every offset at both ends is within LIMIT ms (exit 1 if not).

    vigbox unseal ... | python sync_check.py TAKE LIMIT
"""

import sys

sys.path.insert(0, "/opt/systemtest")
from media import av_offsets  # noqa: E402

MARKS = 3  # at each end


def main() -> int:
    take, limit = sys.argv[1], int(sys.argv[2])
    data = sys.stdin.buffer.read()
    offsets = [round(o * 1000) for o in av_offsets(data)]
    ends = offsets[:MARKS] + offsets[-MARKS:]
    within = len(offsets) >= 2 * MARKS and all(abs(o) <= limit for o in ends)
    print(f"SYNC {take} start={offsets[:MARKS]} end={offsets[-MARKS:]} marks={len(offsets)} "
          f"within {limit} ms: {'yes' if within else 'no'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
