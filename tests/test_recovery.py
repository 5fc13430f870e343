"""Recovery after a crash, and never of what is still being written.

Found by the fault campaign: the unlock's recovery took the recording
under way for a crash's leftovers, re-sealed its first seconds and
unlinked the file the recorder was still writing; the recording failed
and was cut short. Writers now hold a lock on their unfinished file that
the kernel drops when they die, and recovery only takes what it can lock.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from appliance.audit.events import MemoryAudit
from appliance.capture.recorder import Recorder, State
from appliance.capture.recovery import find_interrupted, finish_interrupted
from appliance.capture.sources import SyntheticSource, VideoProfile
from media import decrypted, synthetic_film

VIGBOX = Path(sys.executable).with_name("vigbox")


def test_unlocking_while_recording_leaves_the_recording_alone(intervention):
    store, identity = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360)))
    recording_id = recorder.start()
    time.sleep(2.5)
    assert find_interrupted(store) == []             # what the recorder does at start
    assert finish_interrupted(store, identity) == []  # what an unlock does
    time.sleep(2)
    recorder.stop("test")
    recorder.wait(30)
    entry = store.catalog.get(recording_id)
    assert recorder.state == State.IDLE, recorder.error
    assert entry.state == "sealed" and entry.duration > 3.5, entry


def test_a_recorder_in_another_process_is_left_alone_until_it_dies(intervention, settings):
    store, identity = intervention
    process = subprocess.Popen([VIGBOX, "--home", settings.home, "record", "--seconds", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not store.list("recording") and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2.5)
        assert find_interrupted(store) == [] and finish_interrupted(store, identity) == []
        [live] = store.list("recording")
        assert live.entry.state == "writing" and store.partial_path(live.entry.id).exists()
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert find_interrupted(store) == [live.entry.id]  # now it is a crash's leftovers
    audit = MemoryAudit()
    assert finish_interrupted(store, identity, audit) == [live.entry.id]
    assert store.catalog.get(live.entry.id).state == "recovered"
    assert ("recording recovered", {"actor": "guider", "object": live.entry.id}) in audit.events


def test_a_recording_cut_off_before_its_index_is_indexed_at_the_unlock(intervention):
    store, identity = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(320, 180), realtime=False,
                                               seconds=4))
    recording_id = recorder.start()
    recorder.wait(60)
    [index] = [o for o in store.list("index") if o.entry.parent == recording_id]
    store.delete(index.entry.id)            # the crash came between the two
    unfinished = store.create("index", parent=recording_id)
    unfinished.write(b"{")
    unfinished._file.close()                # and the index's writer died
    audit = MemoryAudit()
    assert finish_interrupted(store, identity, audit) == []
    [index] = [o for o in store.list("index") if o.entry.parent == recording_id]
    assert index.entry.state == "sealed" and not store.partial_path(unfinished.id).exists()
    assert b'"fragments"' in decrypted(store, index.entry.id, identity)
    assert [e for e, _ in audit.events] == ["recording indexed"]


def test_a_recording_with_no_whole_fragment_is_discarded(intervention):
    store, identity = intervention
    writer = store.create("recording", keep_partial=True)
    writer.write(b"\0\0\0\x18ftypiso5" + bytes(200))  # the header and no fragment
    writer.sync()
    writer._file.close()                               # the power went
    audit = MemoryAudit()
    assert find_interrupted(store) == [writer.id]
    assert finish_interrupted(store, identity, audit) == []
    assert store.list("recording") == [] and not any(store.objects_dir.iterdir())
    assert audit.events == [("recording discarded: nothing playable",
                             {"actor": "guider", "object": writer.id})]



def test_a_damaged_recording_without_its_index_is_indexed_up_to_the_damage(intervention):
    """Indexing at the unlock read the whole film; a damaged chunk raised
    out of it and failed the unlock."""
    from appliance.capture.recovery import INDEXED, NOT_INDEXED, recover_interrupted
    from test_damaged_files import damage
    store, identity = intervention
    films = [synthetic_film(store, 4, (320, 180)) for _ in range(2)]
    for film in films:
        [index] = [o for o in store.list("index") if o.entry.parent == film]
        store.delete(index.entry.id)
    damage(store.object_path(films[0]), 12)
    damage(store.object_path(films[1]), 0)
    outcomes = {o.object_id: o for o in recover_interrupted(store, identity)}
    assert outcomes[films[0]].result == INDEXED and "chunk 12" in outcomes[films[0]].reason
    assert outcomes[films[1]].result == NOT_INDEXED and "chunk 0" in outcomes[films[1]].reason
    [index] = [o for o in store.list("index") if o.entry.parent == films[0]]
    fragments = json.loads(decrypted(store, index.entry.id, identity))["fragments"]
    assert fragments and fragments[-1]["offset"] + fragments[-1]["size"] <= 12 * 65536
