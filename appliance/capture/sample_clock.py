"""Where each block of sound belongs in time, from the microphone's own
count of samples and the times it was read.

A block's stamp (when ALSA says its first sample was captured) is right
on average but not one by one: a block read late, because the box was
busy (the stop of a take seals, flushes and fsyncs), comes stamped late.
Followed one by one (aresample's ``async``), those stamps moved the sound
37-125 ms late in the last seconds of one take in three in the test VM.
The samples themselves are evenly spaced by the microphone's crystal,
which only runs a little fast or slow. So a block is placed on a straight
line, samples against time, fitted to the stamps so far; a stamp far from
the line is not let into the fit. The line's slope is the crystal's rate
(a microphone 0.3 % fast drifts 180 ms a minute, and the line follows it).
Samples really lost (an overrun: the stamps run ahead of the count and
stay there) move the line after a second of such stamps.

>>> clock = SampleClock(48000)
>>> placed = [clock.place(n * 20_000 + 9, 960) for n in range(60)]  # 1.2 s, 20 ms blocks
>>> placed[-1]
1180009
>>> clock.place(60 * 20_000 + 70_000, 960)  # read 70 ms late: put on the line
1200009
"""

from dataclasses import dataclass

WARMUP_SAMPLES = 48_000     # the first second: every stamp is taken, the fit builds
OUTLIER_US = 15_000         # a stamp further than this from the line stays out of it
RELOCK_US = 1_000_000       # a second of stamps off the line: samples were lost


@dataclass
class _Fit:
    """A running least-squares line of stamp (µs) against sample count,
    kept as means and co-moments (Welford): exact over hours of samples."""

    n: int = 0
    mean_x: float = 0.0
    mean_y: float = 0.0
    c_xx: float = 0.0
    c_xy: float = 0.0

    def add(self, x: float, y: float) -> None:
        self.n += 1
        dx = x - self.mean_x
        self.mean_x += dx / self.n
        self.mean_y += (y - self.mean_y) / self.n
        self.c_xx += dx * (x - self.mean_x)
        self.c_xy += dx * (y - self.mean_y)

    def at(self, x: float, nominal_slope: float) -> float:
        slope = self.c_xy / self.c_xx if self.c_xx > 0 else nominal_slope
        return self.mean_y + slope * (x - self.mean_x)


class SampleClock:
    """Places blocks of sound: ``place(stamp_us, samples)`` returns the
    time (µs) of the block's first sample, on the fitted line."""

    def __init__(self, rate: int):
        self.rate = rate
        self.samples = 0            # counted before the block being placed
        self.fit = _Fit()
        self.off_line_since: int | None = None  # samples, when stamps left the line
        self.outliers = self.relocks = 0        # for the log and the tests

    def place(self, stamp_us: int, samples: int) -> int:
        x, nominal = self.samples, 1e6 / self.rate
        self.samples += samples
        if x < WARMUP_SAMPLES:
            self.fit.add(x, stamp_us)
            return stamp_us
        line = self.fit.at(x, nominal)
        if abs(stamp_us - line) <= OUTLIER_US:
            self.fit.add(x, stamp_us)
            self.off_line_since = None
            return round(line)
        self.outliers += 1
        if self.off_line_since is None:
            self.off_line_since = x
        elif (x - self.off_line_since) * nominal >= RELOCK_US:
            self._relock(x, stamp_us)
            return stamp_us
        return round(line)

    def _relock(self, x: int, stamp_us: int) -> None:
        """Samples were lost (or time jumped): a new line through the stamp
        now, with the rate learnt so far."""
        slope = self.fit.c_xy / self.fit.c_xx if self.fit.c_xx > 0 else 1e6 / self.rate
        self.fit = _Fit()
        for back in (self.rate, 0):  # two points a second apart on the old slope
            self.fit.add(x - back, stamp_us - back * slope)
        self.off_line_since = None
        self.relocks += 1
