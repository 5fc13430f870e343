"""Figure 14: the interaction map, on labelled dialogues (bench/dialogue.py:
espeak-ng speech in adult-like and child-like voices, classroom noise).

- Quality, at each SNR (none, 20, 10, 5 dB) and in the stress case (half
  the adult lines in the raised pitch adults use with young children, at
  10 dB): speech-activity F1 per 10 ms frame, the speaker class per
  utterance, turns' precision and recall (a found turn within 0.5 s of a
  true one, the same way round). Each figure is against the labels, a
  perfect analysis (1.0), so its ratio is the score itself.
- Speed: a 30-minute film whose sound is such a dialogue, sealed by the
  real recorder, analysed from the sealed file in a process of its own
  (decryption, ffmpeg's decode, the analysis): CPU seconds against the
  film's length (target 1/30), and against what encoding the same length
  at the recorder's profile costs here.
- Memory: that process's peak, 30 minutes against 5 (flat: at most 1.1
  times), and against 150 MiB.

``python -m bench.interaction [--quick]`` runs this figure alone.
"""

import json
import resource
import subprocess
import sys
import time
import wave

from appliance.capture.commands import VideoProfile, synthetic_command
from appliance.interaction.analysis import analyse
from appliance.store.objects import Store

from .common import BenchError, Figure, Summary, load_config, progress, scratch_dir
from .dialogue import RATE, dialogue, score
from .editor_cut import record
from .editor_http import PASSPHRASE
from .playback import intervention

SETS = (("clean", None, False), ("20 dB", 20, False), ("10 dB", 10, False),
        ("5 dB", 5, False), ("10 dB, raised adult pitch", 10, True))
TARGETS = {"speech_f1": 0.90, "turn_precision": 0.80, "turn_recall": 0.80,
           "speaker_accuracy": 0.80}
NAMES = {"speech_f1": "speech-activity F1", "turn_precision": "turn precision",
         "turn_recall": "turn recall", "speaker_accuracy": "speaker class accuracy"}
FILM = VideoProfile(width=320, height=240, fps=15)   # the sound is what is measured
RECORDER = VideoProfile()                            # 1080p30 at 6 Mbit/s
MEMORY_BUDGET_MIB = 150


def quality(seconds: int) -> dict:
    out = {}
    for label, snr, raised in SETS:
        progress(f"  a {seconds} s dialogue, {label}")
        # one seed: the same lines, voices and pauses at every SNR, only the
        # noise differs (the stress case's voices differ by its nature)
        talk = dialogue(seed=1000, seconds=seconds, snr=snr, raised=raised)
        out[label] = score(analyse([talk.samples]), talk)
    return out


def film_of(store: Store, seconds: int, scratch) -> str:
    talk = dialogue(seed=77, seconds=seconds, snr=10)
    path = scratch / f"talk-{seconds}.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(RATE)
        out.writeframes(talk.pcm()[:seconds * RATE * 2])
    return record(store, seconds, FILM, sound=str(path))


def analysed(store: Store, recording: str) -> dict:
    identity = store.keys.unlock(PASSPHRASE)
    done = subprocess.run([sys.executable, "-m", "bench.interaction_child", str(store.root),
                           recording], input=f"{identity}\n", capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"the analysis failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def encoding_cpu(seconds: int) -> float:
    """CPU seconds the synthetic camera takes to encode ``seconds`` at the
    recorder's profile (test pattern included), output thrown away."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(synthetic_command(RECORDER, seconds=seconds, realtime=False),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def figures_interaction(cfg) -> list[Figure]:
    long, short, talk_seconds = (300, 60, 120) if cfg.quick else (1800, 300, 600)
    progress("figure 14: the interaction map")
    scores = quality(talk_seconds)
    with scratch_dir() as scratch:
        store = Store(scratch / "store")
        intervention(store)
        runs = {}
        for seconds in (short, long):
            recording = film_of(store, seconds, scratch)
            runs[seconds] = analysed(store, recording)
            progress(f"  {seconds} s analysed: {runs[seconds]}")
    encode = encoding_cpu(60) * long / 60
    return quality_figures(scores, talk_seconds) + cost_figures(runs, long, short, encode)


def quality_figures(scores: dict, seconds: int) -> list[Figure]:
    figures = []
    for key, bound in TARGETS.items():
        at10 = getattr(scores["10 dB"], key)
        figures.append(Figure(
            f"interaction map: {NAMES[key]} at 10 dB", Summary("score", (at10,)),
            Summary("score", (1.0,)), "the labels (a perfect analysis)", (">=", bound),
            [f"{seconds} s dialogues; " + "; ".join(
                f"{label}: {getattr(s, key):.3f}" for label, s in scores.items())]))
    return figures


def cost_figures(runs: dict, long: int, short: int, encode: float) -> list[Figure]:
    whole, brief = runs[long], runs[short]
    cpu = whole["cpu_python"] + whole["cpu_ffmpeg"]
    return [
        Figure(f"interaction map: analysing {long // 60} min (CPU)", Summary("s", (cpu,)),
               Summary("s", (float(long),)), "the film's own length", ("<=", 1 / 30), [
                   f"analysis {whole['cpu_python']:.1f} s, ffmpeg's decode "
                   f"{whole['cpu_ffmpeg']:.1f} s, wall {whole['wall']:.1f} s; "
                   f"{cpu / encode:.3f} of the CPU encoding {long // 60} min at the recorder's "
                   f"profile takes here ({encode:.0f} s, estimated from 60 s)"]),
        Figure(f"interaction map: peak memory, {long // 60} min against {short // 60} min",
               Summary("MiB", (whole["peak_mib"],)), Summary("MiB", (brief["peak_mib"],)),
               f"the same analysis of a {short // 60}-minute film", ("<=", 1.1), [
                   f"budget {MEMORY_BUDGET_MIB} MiB: "
                   f"{'within' if whole['peak_mib'] <= MEMORY_BUDGET_MIB else 'OVER'} "
                   f"({whole['peak_mib']:.0f} MiB)"]),
    ]


def main() -> int:
    cfg = load_config("--quick" in sys.argv)
    started = time.monotonic()
    for figure in figures_interaction(cfg):
        print(f"{figure.status:4} {figure.name}: {figure.vigbox.median:.3f} vs "
              f"{figure.reference.median:.3f} (ratio {figure.ratio:.3f}) {figure.notes}")
    progress(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
