"""One interaction analysis of a sealed film, alone in a process, so
that its CPU time (its own and ffmpeg's) and its peak memory are its
own: ``python -m bench.interaction_child STORE RECORDING`` with the
film's X25519 identity on stdin (no passphrase: scrypt's 256 MiB would
be the peak). Prints one line of JSON."""

import json
import resource
import sys
import time
from pathlib import Path

from appliance import age
from appliance.interaction.sealed import analyse_recording
from appliance.store.objects import Store


def peak_mib() -> float:
    """This process's peak resident memory. Not ru_maxrss: Linux carries
    that over an exec from the parent (the bench, with its dialogues)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    root, recording = sys.argv[1:3]
    identity = age.X25519Identity.parse(sys.stdin.readline().strip())
    store = Store(Path(root), create=False)
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    found = analyse_recording(store, recording, identity)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = [a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before)]
    print(json.dumps({"wall": wall, "cpu_python": cpu[0], "cpu_ffmpeg": cpu[1],
                      "peak_mib": peak_mib(), "seconds": found.duration,
                      "turns": len(found.turns)}))


if __name__ == "__main__":
    main()
