"""CPU time and resident memory of processes, read from Linux's /proc.

The recorder figure (:mod:`.recorder`) splits the CPU a recording costs
between ffmpeg, a child process still running when it is sampled (so
``getrusage(RUSAGE_CHILDREN)`` cannot see it yet), and the recorder's own
Python process; and it watches that process's resident memory for growth.
These are the few readings it needs, each one small function, so that a
misread field shows up in one place.

>>> process_cpu(os.getpid()) >= 0 and self_cpu() >= 0
True
>>> rss_bytes() > 0
True
"""

import os
import resource
from pathlib import Path

from .common import BenchError

_TICKS = os.sysconf("SC_CLK_TCK")
# fields of /proc/<pid>/stat counted from the state, the first after "(comm)":
# utime and stime are fields 14 and 15 of proc(5), so 11 and 12 from there
_UTIME, _STIME = 11, 12


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) ``pid`` has used so far.

    The command name in parentheses may hold spaces or parentheses itself,
    so the fields are split after its last closing parenthesis."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        raise BenchError(f"process {pid} is gone: its CPU time cannot be read") from None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[_UTIME]) + int(fields[_STIME])) / _TICKS


def self_cpu() -> float:
    """CPU seconds (user + system, every thread) of this process so far.

    getrusage rather than /proc/self/stat: microseconds, not clock ticks.
    Children are not included, waited for or not."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu() -> float:
    """CPU seconds of this process's children that have been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size (VmRSS) of ``pid``, this process by default."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "VmRSS":
            kib, unit = value.split()
            if unit != "kB":
                raise BenchError(f"unexpected VmRSS unit {unit!r} in /proc/{pid}/status")
            return int(kib) * 1024
    raise BenchError(f"no VmRSS in /proc/{pid}/status (a kernel thread, or a zombie?)")
