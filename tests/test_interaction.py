"""The interaction map: measured against labelled dialogues (speech
synthesised by espeak-ng, classroom noise mixed in), and made from a
sealed film's sound through pipes, leaving nothing when the film is
damaged. The figures per SNR are bench/interaction.py's; these tests
hold the analysis to what it does at 10 dB with room to spare."""

import threading
import time
import wave

import numpy as np
import pytest

from appliance.capture.recorder import Recorder
from appliance.capture.sources import SyntheticSource, VideoProfile
from appliance.errors import AnalysisError
from appliance.interaction.analysis import InteractionMap, analyse
from appliance.interaction.sealed import KIND, analyse_recording, seal_map, stored_map
from bench.dialogue import RATE, dialogue, pink, score
from conftest import begin_intervention


@pytest.fixture(scope="module")
def talk():
    return dialogue(seed=5, seconds=90, snr=10)


@pytest.fixture
def intervention(intervention):
    """With its record and consent to every use: a map is sealed only with
    consent to analyse the sound."""
    begin_intervention(intervention[0])
    return intervention


def write_wav(path, d) -> str:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(RATE)
        out.writeframes(d.pcm())
    return str(path)


def talking_film(store, d, tmp_path) -> str:
    """The synthetic camera, with ``d`` as its sound, as fast as it encodes."""
    source = SyntheticSource(VideoProfile(320, 240, 15), realtime=False,
                             seconds=len(d.samples) / RATE,
                             sound=write_wav(tmp_path / "talk.wav", d))
    recorder = Recorder(store, source)
    recording = recorder.start()
    recorder.wait(timeout=120)
    return recording


def test_a_dialogue_in_classroom_noise_is_mapped_close_to_its_truth(talk):
    found = score(analyse([talk.samples]), talk)
    assert found.speech_f1 >= 0.9, found
    assert found.speaker_accuracy >= 0.85, found
    assert found.turn_precision >= 0.8 and found.turn_recall >= 0.8, found


def test_the_map_does_not_depend_on_where_the_blocks_fall(talk):
    """One block or many (each a multiple of webrtcvad's 30 ms): the same map."""
    whole = analyse([talk.samples])
    step = 480 * 417                       # 12.5 s
    blocks = [talk.samples[i:i + step] for i in range(0, len(talk.samples), step)]
    parts = analyse(blocks)
    assert [(s.start, s.end, s.speaker) for s in parts.segments] == \
        [(s.start, s.end, s.speaker) for s in whole.segments]
    assert parts.turns == whole.turns and len(whole.turns) > 10


def test_noise_that_is_not_speech_has_no_turns():
    """Pink noise with knocks and clatter. (Other people talking near the
    box are speech to it: the page and docs/performance.md say so.)"""
    rng = np.random.default_rng(7)
    noise = pink(RATE * 30, rng)
    for at in rng.uniform(0, 29, 20):
        length = int(rng.uniform(0.03, 0.3) * RATE)
        noise[int(at * RATE):int(at * RATE) + length] += \
            rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 5)) * 20
    found = analyse([(noise / np.abs(noise).max() * 8000).astype(np.int16)])
    assert found.turns == [] and found.moments == []


def test_a_map_survives_its_document(talk):
    found = analyse([talk.samples])
    again = InteractionMap.from_document(found.document())
    assert again == found
    summary = found.document()["summary"]
    assert summary["turns"] == len(found.turns) and 0 < summary["talk_share"]["child"] < 1
    assert summary["median_wait"] > 0


def test_a_film_s_sound_is_mapped_from_its_sealed_file_and_sealed_beside_it(
        intervention, talk, tmp_path):
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    heard = []
    found = analyse_recording(store, recording, identity, heard=heard.append)
    assert heard and heard == sorted(heard) and heard[-1] > 0.95
    assert abs(found.duration - len(talk.samples) / RATE) < 0.5
    scores = score(found, talk)             # through AAC at 48 kHz and back
    assert scores.speech_f1 >= 0.9 and scores.turn_recall >= 0.8, scores
    assert stored_map(store, recording, identity) is None
    seal_map(store, recording, found)
    assert stored_map(store, recording, identity) == found
    seal_map(store, recording, found)       # again: the older map goes
    assert len(store.list(KIND)) == 1


@pytest.mark.parametrize("damage", ["a flipped byte", "cut off"])
def test_a_damaged_film_ends_in_a_typed_error_and_leaves_no_map(
        intervention, talk, tmp_path, damage):
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    path = store.object_path(recording)
    data = bytearray(path.read_bytes())
    if damage == "a flipped byte":
        data[len(data) // 2] ^= 0x40
    else:
        del data[len(data) * 2 // 3:]
    path.write_bytes(bytes(data))
    with pytest.raises(AnalysisError) as refused:
        analyse_recording(store, recording, identity)
    assert recording in str(refused.value)
    assert store.list(KIND) == []


def test_the_evaluation_adds_up_each_cycle_s_maps_without_the_passphrase(
        intervention, talk, tmp_path):
    """Turns a minute, the adult's median wait, talk shares: numbers kept
    in the catalog beside the sealed map, so the wipe's summary has them."""
    from appliance.intervention.evaluation import render_summary_html, summarise, summary_csv
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    assert summarise(store, "test")["cycles"][0]["talk"] is None
    found = analyse_recording(store, recording, identity)
    seal_map(store, recording, found)
    talked = summarise(store, "test")["cycles"][0]["talk"]
    minutes = found.duration / 60
    assert talked["films"] == 1
    assert talked["turns_per_minute"] == round(len(found.turns) / minutes, 2) > 0
    assert talked["median_wait"] == found.summary()["median_wait"]
    assert abs(talked["adult_share"] + talked["child_share"] - 1) < 0.05
    summary = summarise(store, "test")
    assert "Talk between adult and child" in render_summary_html(summary)
    assert f"turns a minute,1,{talked['turns_per_minute']}," in summary_csv(summary)


def test_nothing_of_the_sound_or_its_map_reaches_a_disk_in_the_clear(
        intervention, talk, tmp_path):
    """The canary over an analysis: every file written anywhere while it
    runs (named or not), and every deleted file held open, looked at for
    the film, for a stretch of its decoded sound, and for the map."""
    import re
    import subprocess

    from canary import NEEDLES, unlinked_plaintext
    from media import decrypted
    from write_watch import WriteWatch
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    sound = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", "pipe:0", "-map", "0:a",
                            "-ac", "1", "-ar", str(RATE), "-f", "s16le", "pipe:1"],
                           input=decrypted(store, recording, identity), capture_output=True,
                           check=True).stdout
    samples = np.frombuffer(sound, "<i2")
    loudest = int(np.argmax(np.abs(samples))) // 2 * 2
    stretch = sound[loudest * 2:loudest * 2 + 24]      # 12 samples of someone speaking
    needles = re.compile(b"|".join([NEEDLES.pattern, re.escape(stretch),
                                    re.escape(b'"long_waits": [')]))
    found = []
    with WriteWatch("/", "/tmp", "/dev/shm", needles=needles) as watch:
        done = threading.Event()
        worker = threading.Thread(target=lambda: (seal_map(
            store, recording, analyse_recording(store, recording, identity)), done.set()))
        worker.start()
        while not done.is_set() and worker.is_alive():
            found += unlinked_plaintext(needles=needles)
            time.sleep(0.05)
        worker.join()
        watch.settle()
    assert done.is_set() and len(store.list(KIND)) == 1
    assert watch.files_seen > 0, "the watch saw the machine's writes"
    assert watch.found == [] and found == [], (watch.found, found)


def test_a_map_is_not_kept_once_the_consent_to_analyse_the_sound_is_gone(
        intervention, talk, tmp_path):
    """Withdrawn while the map was being made: the sweep came before it, so
    sealing it checks the consent again and keeps nothing."""
    from datetime import date

    from appliance.errors import AnalysisCancelled
    from appliance.intervention.consent import CODES, ConsentRecord
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    found = analyse_recording(store, recording, identity)
    ConsentRecord(store.catalog).change(set(CODES) - {"sound-analysis"}, given=date.today())
    with pytest.raises(AnalysisCancelled, match="consent"):
        seal_map(store, recording, found)
    assert store.list(KIND) == []


def test_a_map_left_by_a_film_deleted_under_it_goes_at_the_next_sweep(
        intervention, talk, tmp_path):
    """A map sealed between its film's children being listed and the film
    going outlived it; the consent sweep takes it, for the certificate."""
    from appliance.film.deletion import deletions
    from appliance.intervention.consent import withdraw_dependents
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    seal_map(store, recording, analyse_recording(store, recording, identity))
    store.delete(recording)                      # the film gone, its map not
    assert withdraw_dependents(store)["maps_deleted"] == 1
    assert store.list(KIND) == [] and [d["kind"] for d in deletions(store)] == ["interaction"]


def test_a_map_still_being_sealed_is_not_counted_in_the_evaluation(intervention, talk, tmp_path):
    from appliance.intervention.evaluation import summarise
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    found = analyse_recording(store, recording, identity)
    with store.create(KIND, parent=recording, meta={"version": 1, "figures": found.figures()}):
        assert summarise(store, "test")["cycles"][0]["talk"] is None
