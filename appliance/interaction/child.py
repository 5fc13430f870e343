"""One film's analysis in a process of its own, at nice 19: started by
the map worker with ``python -m appliance.interaction.child STORE
RECORDING``, the film's identity on stdin (a pipe: never a file, never
an argument another user could read in /proc), one JSON line on stdout
per step: ``{"progress": 0.42}``, then ``{"done": MAP_ID}`` or
``{"failed": MESSAGE}``.

Why a process and not a thread of the page's: the analysis holds
Python's GIL for most of its work (webrtcvad is called 2000 times a
minute of sound), and a thread at nice 19 that holds the GIL makes the
page's threads wait for it: the film the guider has just opened would
stall. Its memory goes back when it ends, and a crash in it is not the
page's.
"""

import json
import os
import signal
import sys
from pathlib import Path

from .. import age
from ..errors import AnalysisError
from ..store.objects import Store
from .sealed import analyse_recording, seal_map

LOWEST = 19


def say(**what) -> None:
    print(json.dumps(what), flush=True)


def main(argv: list[str]) -> int:
    root, recording = argv
    # a stop (SIGTERM) unwinds, but not while the map is being sealed: that
    # takes a moment, and a stop then waits for it, so that what is left is
    # a whole map or none (unwinding a half-made object mid-step could leave
    # its catalog row behind). Python runs the handler in this thread only,
    # between two steps, whichever thread the kernel gave the signal to.
    sealing = {"now": False, "stop": False, "leaving": False}

    def stop(*_):
        if sealing["now"]:
            sealing["stop"] = True
        else:
            sealing["leaving"] = True
            sys.exit(128 + signal.SIGTERM)

    def hold(*_):
        # the worker holds it with SIGTSTP (while the box films, or serves
        # media): it stops itself, but never while it seals, which holds the
        # catalog's write lock that a take's own rows wait on. Not SIGSTOP
        # from the worker, which could not be refused; nor SIGTSTP's default
        # action, which the kernel ignores in the page's process group (an
        # orphaned one under systemd). Nor once it is leaving: a hold that
        # came with the stop would stop it on its way out.
        if not sealing["now"] and not sealing["leaving"]:
            os.kill(os.getpid(), signal.SIGSTOP)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGTSTP, hold)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, LOWEST)   # ffmpeg, its child, inherits it
    except OSError as e:
        print(f"could not lower the interaction map's priority: {e}", file=sys.stderr)
    identity = age.X25519Identity.parse(sys.stdin.readline().strip())
    store = Store(Path(root), create=False)
    try:
        found = analyse_recording(store, recording, identity,
                                  heard=lambda share: say(progress=round(share, 3)))
        sealing["now"] = True
        say(sealing=True)  # the worker then holds it no more
        made = seal_map(store, recording, found)
        if sealing["stop"]:
            sys.exit(128 + signal.SIGTERM)
        say(done=made, seconds=found.duration, segments=len(found.segments),
            turns=len(found.turns))
    except AnalysisError as e:
        say(failed=str(e))
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
