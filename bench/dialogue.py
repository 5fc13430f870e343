"""Labelled adult-child dialogues for the interaction map: speech
synthesised by Debian's espeak-ng in adult-like and child-like voices
(bench/voices: pitch and vocal-tract length set per voice), with known
turns, pauses and overlaps, and classroom noise mixed at a chosen SNR.
There is no public child-adult classroom corpus here; this is the
closest honest thing, and its limits are in docs/performance.md
(espeak's pitch is steadier than a person's).

>>> d = dialogue(seed=1, seconds=8)
>>> d.rate, d.utterances[0].speaker in ("adult", "child"), len(d.samples) > 8 * 16000
(16000, True, True)
"""

import os
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

RATE = 16000
VOICES = Path(__file__).with_name("voices")
ADULTS = ("vigbox-man1", "vigbox-man2", "vigbox-woman1", "vigbox-woman2")
CHILDREN = ("vigbox-child1", "vigbox-child2", "vigbox-child3")
RAISED = "vigbox-woman-to-child"   # an adult in the sing-song pitch used with children
PACES = (135, 150, 165, 180)       # words a minute (few, so that speech is reused)
CHILD_SAYS = (
    "Look at my tower", "Can I have the red one", "I made a boat", "Where is the teddy",
    "It fell down again", "My turn now", "I want to paint a dog", "The car goes really fast",
    "I can do it by myself", "Why is it wet", "We saw a fire engine", "That one is mine",
    "Can we go outside", "I found a snail", "It is a dinosaur", "Help me please")
ADULT_SAYS = (
    "You built it so tall", "Tell me about your picture", "What shall we do next",
    "I can see you are thinking hard", "Shall we try it together", "Oh it fell, what now",
    "You found the blue one", "That was kind of you", "Let me hold it while you look",
    "What do you think will happen", "Wow, look at that", "Do you want to try again")


@dataclass(frozen=True)
class Utterance:
    start: float
    end: float
    speaker: str             # "adult" or "child"
    voice: str


@dataclass
class Dialogue:
    samples: np.ndarray      # int16 at RATE
    utterances: list[Utterance]
    rate: int = RATE

    def speech_frames(self) -> np.ndarray:
        """The truth per 10 ms frame: someone is speaking."""
        mask = np.zeros(len(self.samples) // (RATE // 100), bool)
        for u in self.utterances:
            mask[int(round(u.start * 100)):int(round(u.end * 100))] = True
        return mask

    def pcm(self) -> bytes:
        return self.samples.astype("<i2").tobytes()


def dialogue(*, seed: int, seconds: float, snr: float | None = None, raised: bool = False,
             noise: str = "classroom") -> Dialogue:
    """About ``seconds`` of alternating speech (70 % of the time the
    other speaks next), pauses 0.3-1.2 s, now and then 1.2-3 s, and one
    utterance in eight overlapping the last by up to 0.3 s. ``raised``:
    half the adult lines in RAISED, the stress case for a pitch rule."""
    pick = random.Random(seed)
    adults = ADULTS + (RAISED,) * (4 if raised else 0)
    utterances, pieces, at = [], [], 0.8
    speaker = pick.choice(("adult", "child"))
    while at < seconds:
        voice = pick.choice(adults if speaker == "adult" else CHILDREN)
        said = pick.choice(ADULT_SAYS if speaker == "adult" else CHILD_SAYS)
        sound = _trimmed(speak(said, voice, pick.choice(PACES))) * pick.uniform(0.5, 1.0)
        utterances.append(Utterance(round(at, 3), round(at + len(sound) / RATE, 3), speaker, voice))
        pieces.append((at, sound))
        at += len(sound) / RATE
        at += pick.uniform(0.3, 1.2) if pick.random() < 0.7 else pick.uniform(1.2, 3.0)
        if pick.random() < 0.125:
            at = utterances[-1].end - pick.uniform(0.05, 0.3)
        if pick.random() < 0.7:
            speaker = "child" if speaker == "adult" else "adult"
    clean = np.zeros(int((at + 1.0) * RATE), np.float32)
    for start, sound in pieces:
        first = int(round(start * RATE))
        clean[first:first + len(sound)] += sound
    clean *= 0.3 / max(float(np.abs(clean).max()), 1e-9)
    made = Dialogue(np.zeros(0, np.int16), utterances)
    if snr is not None:
        clean = mix(clean, made.__class__(clean, utterances).speech_frames(),
                    NOISES[noise](len(clean), np.random.default_rng(seed)), snr)
    made.samples = np.clip(clean * 32768, -32768, 32767).astype(np.int16)
    return made


def mix(clean: np.ndarray, speech: np.ndarray, noise: np.ndarray, snr: float) -> np.ndarray:
    """Noise scaled so that speech (its frames only) stands ``snr`` dB over it."""
    frames = clean[:len(speech) * 160].reshape(-1, 160)[speech]
    gain = _rms(frames) / _rms(noise) / 10 ** (snr / 20)
    out = clean + gain * noise[:len(clean)]
    return out * min(1.0, 0.99 / float(np.abs(out).max()))


def pink(count: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(count))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    return np.fft.irfft(spectrum, count).astype(np.float32)


def classroom(count: int, rng: np.random.Generator) -> np.ndarray:
    """Six distant talkers (reverberant babble) half the power, pink
    noise a third, knocks and chair scrapes the rest."""
    babble = np.zeros(count, np.float32)
    pick = random.Random(int(rng.integers(1 << 30)))
    bank = [_trimmed(speak(said, voice, 180)) for said, voice in
            zip(pick.sample(CHILD_SAYS + ADULT_SAYS, 10), pick.choices(ADULTS + CHILDREN, k=10))]
    for _ in range(6):
        at = int(pick.uniform(0, 1) * RATE)
        while at < count:
            sound = pick.choice(bank)
            sound = sound[:count - at] / (_rms(sound) + 1e-9)
            babble[at:at + len(sound)] += sound
            at += len(sound) + int(pick.uniform(0.05, 0.4) * RATE)
    room = np.exp(-np.arange(int(0.4 * RATE)) / (0.08 * RATE)) * rng.standard_normal(int(0.4 * RATE))
    babble = np.fft.irfft(np.fft.rfft(babble, 2 * count) * np.fft.rfft(room, 2 * count))[:count]
    knocks = np.zeros(count, np.float32)
    at = rng.uniform(0.5, 4)
    while at * RATE < count - RATE:
        length = int(rng.uniform(0.03, 0.5) * RATE)
        burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 5))
        knocks[int(at * RATE):int(at * RATE) + length] += burst * rng.uniform(1, 4)
        at += rng.exponential(4.0)
    parts = [(babble, 0.5), (pink(count, rng), 0.35), (knocks, 0.15)]
    return sum(p / (_rms(p) + 1e-9) * np.sqrt(share) for p, share in parts).astype(np.float32)


NOISES = {"classroom": classroom, "pink": lambda count, rng: pink(count, rng)}


@lru_cache(maxsize=256)
def speak(text: str, voice: str, words_per_minute: int) -> np.ndarray:
    """espeak-ng's speech of ``text`` in one of our voices, 16 kHz float32."""
    wav = subprocess.run(["espeak-ng", f"--path={_voice_data()}", "-v", f"en+{voice}",
                          "-s", str(words_per_minute), "--stdout", text],
                         check=True, capture_output=True).stdout
    rate = int.from_bytes(wav[24:28], "little")
    sound = np.frombuffer(wav[wav.index(b"data") + 8:], "<i2").astype(np.float32) / 32768
    return resample(sound, rate)


def resample(sound: np.ndarray, rate: int) -> np.ndarray:
    """To RATE through the spectrum (speech is short: one FFT is cheap)."""
    count = int(round(len(sound) * RATE / rate))
    spectrum = np.fft.rfft(sound)[:count // 2 + 1]
    return (np.fft.irfft(spectrum, count) * count / len(sound)).astype(np.float32)


@lru_cache(maxsize=1)
def _voice_data() -> str:
    """espeak-ng's own data with our voices among its variants: links,
    in a folder removed when the process ends."""
    found = re.search(r"Data at:\s*(\S+)", subprocess.run(
        ["espeak-ng", "--version"], check=True, capture_output=True, text=True).stdout)
    system = Path(found.group(1))
    top = Path(tempfile.mkdtemp(prefix="vigbox-voices-"))
    data = top / "espeak-ng-data"
    data.mkdir()
    for entry in system.iterdir():
        if entry.name != "voices":
            (data / entry.name).symlink_to(entry)
    for entry in (system / "voices").iterdir():
        if entry.name != "!v":
            (data / "voices").mkdir(exist_ok=True)
            (data / "voices" / entry.name).symlink_to(entry)
    variants = data / "voices" / "!v"
    variants.mkdir(parents=True)
    for source in (*(system / "voices" / "!v").iterdir(), *VOICES.iterdir()):
        (variants / source.name).symlink_to(source)
    import atexit
    atexit.register(shutil.rmtree, top, ignore_errors=True)
    return str(top)


def _trimmed(sound: np.ndarray) -> np.ndarray:
    """The audible part (frames within 40 dB of the loudest)."""
    frames = sound[:len(sound) // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt((frames ** 2).mean(1)) > np.sqrt((frames ** 2).mean(1)).max() / 100)
    return sound[loud[0] * 160:(loud[-1] + 1) * 160]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2) + 1e-20))


# --- scoring a map against the truth -----------------------------------------

MAX_GAP = 5.0                # as the map's turns (appliance.interaction.turns)
MATCH = 0.5                  # seconds between a found turn's switch and the true one's


@dataclass(frozen=True)
class Scores:
    speech_f1: float         # per 10 ms frame
    speaker_accuracy: float  # per utterance: the class most of its frames were given
    turn_precision: float
    turn_recall: float


def true_turns(d: Dialogue) -> list[tuple[float, float, str]]:
    said = d.utterances
    return [(a.end, b.start, f"{a.speaker}>{b.speaker}") for a, b in zip(said, said[1:])
            if a.speaker != b.speaker and -0.3 <= b.start - a.end <= MAX_GAP]


def score(found, d: Dialogue) -> Scores:
    """``found``: an InteractionMap of ``d``'s sound."""
    truth = d.speech_frames()
    guess = np.zeros(len(truth), bool)
    label = np.full(len(truth), "none", dtype=object)
    for s in found.segments:
        a, b = int(round(s.start * 100)), int(round(s.end * 100))
        guess[a:b], label[a:b] = True, s.speaker
    hit = float(np.sum(truth & guess))
    precision, recall = hit / max(1, guess.sum()), hit / max(1, truth.sum())
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    right = 0
    for u in d.utterances:
        names, counts = np.unique(label[int(round(u.start * 100)):int(round(u.end * 100))],
                                  return_counts=True)
        right += names[np.argmax(counts)] == u.speaker
    real, guessed = true_turns(d), [(t.after, t.at, t.way) for t in found.turns]
    matched = _matched(real, guessed)
    return Scores(round(f1, 3), round(right / max(1, len(d.utterances)), 3),
                  round(matched / max(1, len(guessed)), 3), round(matched / max(1, len(real)), 3))


def _matched(real, guessed) -> int:
    """Greedy one-to-one matching by the time of the switch, same way round."""
    free, count = list(guessed), 0
    for after, at, way in real:
        switch = (after + at) / 2
        near = [g for g in free if g[2] == way and abs((g[0] + g[1]) / 2 - switch) <= MATCH]
        if near:
            free.remove(min(near, key=lambda g: abs((g[0] + g[1]) / 2 - switch)))
            count += 1
    return count


def write_wav(path, d: Dialogue) -> None:
    import wave
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(RATE)
        out.writeframes(d.pcm())


def main(argv: list[str]) -> int:
    """``python -m bench.dialogue OUT.wav SECONDS``: a dialogue at 20 dB
    (the demo's synthetic camera plays it as its sound)."""
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m bench.dialogue OUT.wav SECONDS", file=__import__("sys").stderr)
        return 2
    path = Path(argv[0])
    temporary = path.with_name(f".{path.name}.partial")
    write_wav(temporary, dialogue(seed=2026, seconds=int(argv[1]), snr=20))
    os.replace(temporary, path)
    return 0


if __name__ == "__main__":
    import sys
    raise SystemExit(main(sys.argv[1:]))
