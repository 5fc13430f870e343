"""Measurements for the load campaign (test_load.py): where the CPU goes,
how a Chromium page plays, and whether a recording lost a frame.

CPU comes from /proc. In simulation the recorder and the web are one
process whose threads all carry the same name (Python 3.11 names no OS
thread), so they are told apart by what they do: the recorder's pump is
the thread blocked reading the camera ffmpeg's stdout pipe (its stderr
drain reads the other pipe); the web is the waitress loop and workers,
which exist before any recording starts. The pipe also says how far the
pump runs behind the camera: the bytes waiting in it (FIONREAD on a
read-only descriptor of it, opened through /proc and never read).

>>> frame_gaps([0, 840, 1352, 2376, 2376], 512)
[(3, 1), (4, -1)]
>>> cpu_of("1 (a b) S 0 0 0 0 0 0 0 0 0 0 100 50 0 0")
(1.5, 0)
"""

import array
import fcntl
import json
import os
import subprocess
import sys
import termios
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from bench.common import BenchError  # noqa: E402
from bench.procstat import process_cpu  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
CAMERA_MARK = "testsrc2"  # in the synthetic camera ffmpeg's command line
READ_SYSCALL = {"x86_64": 0, "aarch64": 63}  # read(2), as /proc/<pid>/task/<tid>/syscall shows it


def cpu_of(stat: str) -> tuple[float, int]:
    """(CPU seconds, parent pid) from a /proc/<pid>[/task/<tid>]/stat line
    (fields split after the command's last ")", as bench.procstat does)."""
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS, int(fields[1])


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:  # gone between listing and reading
        return None


def machine_busy() -> float:
    """CPU seconds all cores have spent not idle (nor waiting for I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


def pipe_inode(pid: int, fd: int | str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None


class Sampler(threading.Thread):
    """Every ``interval`` s: CPU of each box thread, of every process under
    the box and under this test (Chromium), of the machine; and the bytes
    waiting in the camera's pipe."""

    def __init__(self, box_pid: int, interval: float = 0.25):
        super().__init__(name="load-sampler", daemon=True)
        self.read_syscall = str(READ_SYSCALL[os.uname().machine])
        self.box_pid, self.interval = box_pid, interval
        self.me = os.getpid()
        self.samples: list[dict] = []
        self.web_tids = set(self._tids())  # before any recording: waitress and idle helpers
        self.roles: dict[int, str] = {}
        self.backlog: list[tuple[float, int]] = []
        self._camera: tuple[int, int] | None = None  # (pid, our fd on its stdout pipe)
        self._halt = threading.Event()
        self.lock = threading.Lock()

    def _tids(self) -> list[int]:
        try:
            return [int(t) for t in os.listdir(f"/proc/{self.box_pid}/task")]
        except FileNotFoundError:
            return []

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def halt(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)
        self._close_camera()

    def _close_camera(self) -> None:
        if self._camera is not None:
            os.close(self._camera[1])
            self._camera = None

    def sample(self) -> dict:
        now = time.monotonic()
        threads = {}
        for tid in self._tids():
            stat = _read(f"/proc/{self.box_pid}/task/{tid}/stat")
            if stat is not None:
                threads[tid] = cpu_of(stat)[0]
        processes = {}  # pid -> (cpu, ppid, comm, cmdline)
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            stat = _read(f"/proc/{name}/stat")
            if stat is None:
                continue
            cpu, ppid = cpu_of(stat)
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            processes[int(name)] = (cpu, ppid, comm)
        try:
            box_cpu = process_cpu(self.box_pid)
        except BenchError:
            box_cpu = None
        under_box = self._descendants(processes, self.box_pid)
        camera = [p for p in under_box if CAMERA_MARK in (_read(f"/proc/{p}/cmdline") or "")]
        self._watch_camera(camera[0] if camera else None, now)
        self._classify(threads)
        mine = self._descendants(processes, self.me) - under_box - {self.box_pid}
        sample = {
            "t": now, "machine": machine_busy(), "box": box_cpu, "threads": threads,
            "camera": {p: processes[p][0] for p in camera},
            "box_children": {p: processes[p][0] for p in under_box if p not in camera},
            "chromium": {p: processes[p][0] for p in mine if processes[p][2] != "node"},
            "driver": {p: processes[p][0] for p in mine if processes[p][2] == "node"},
            "test": process_cpu(self.me),
        }
        with self.lock:
            self.samples.append(sample)
        return sample

    @staticmethod
    def _descendants(processes: dict, root: int) -> set[int]:
        children: dict[int, list[int]] = {}
        for pid, (_, ppid, _) in processes.items():
            children.setdefault(ppid, []).append(pid)
        found, todo = set(), [root]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def _watch_camera(self, pid: int | None, now: float) -> None:
        if self._camera is not None and self._camera[0] != pid:
            self._close_camera()
        if pid is not None and self._camera is None:
            try:  # O_RDONLY: a reader more, never a writer, so EOF still reaches the pump
                self._camera = (pid, os.open(f"/proc/{pid}/fd/1", os.O_RDONLY | os.O_NONBLOCK))
            except OSError:
                return
        if self._camera is not None:
            waiting = array.array("i", [0])
            fcntl.ioctl(self._camera[1], termios.FIONREAD, waiting)
            self.backlog.append((now, waiting[0]))

    def _classify(self, threads: dict) -> None:
        """Name the threads born after start-up by the pipe they block on."""
        camera = self._camera[0] if self._camera else None
        if camera is None:
            return
        pipes = {pipe_inode(camera, 1): "recorder pump", pipe_inode(camera, 2): "ffmpeg-stderr drain"}
        for tid in threads:
            if tid in self.web_tids or tid in self.roles:
                continue
            call = (_read(f"/proc/{self.box_pid}/task/{tid}/syscall") or "").split()
            if len(call) > 1 and call[0] == self.read_syscall:
                role = pipes.get(pipe_inode(self.box_pid, int(call[1], 16)))
                if role:
                    self.roles[tid] = role

    # --- figures ------------------------------------------------------------

    def window(self, start: float, end: float) -> dict:
        """%CPU (100 = one core) of each part between two monotonic times."""
        with self.lock:
            inside = [s for s in self.samples if start <= s["t"] <= end]
        if len(inside) < 2:
            raise AssertionError(f"fewer than two CPU samples between {start} and {end}")
        first, last = inside[0], inside[-1]
        seconds = last["t"] - first["t"]

        def grown(key: str, keep=lambda _: True) -> float:
            """CPU gained by the members of sample[key]: a member born in the
            window counts from 0, one that died counts until last seen."""
            total, seen = 0.0, {}
            for s in inside:
                for member, cpu in s[key].items():
                    if keep(member):
                        seen.setdefault(member, [first[key].get(member), cpu])[1] = cpu
            for begin, final in seen.values():
                total += final - (begin if begin is not None else 0.0)
            return total

        def pct(cpu: float) -> float:  # differences of clock ticks may dip under 0
            return max(0.0, round(100 * cpu / seconds, 1))

        recorder = grown("threads", lambda t: t in self.roles)
        web = grown("threads", lambda t: t in self.web_tids)
        living = grown("threads")
        box = (last["box"] or 0) - (first["box"] or 0)
        camera, chromium = grown("camera"), grown("chromium")
        others_here = grown("box_children") + grown("driver") + last["test"] - first["test"]
        machine = last["machine"] - first["machine"]
        return {
            "seconds": round(seconds, 1),
            "camera_ffmpeg": pct(camera),
            "recorder_threads": pct(recorder),
            "web_threads": pct(web),
            "box_other_threads": pct(box - recorder - web),  # control connections, exited threads
            "box_process": pct(box),
            "box_other_children": pct(grown("box_children")),
            "chromium": pct(chromium),
            "test_harness": pct(last["test"] - first["test"] + grown("driver")),
            "machine_busy": pct(machine),
            "machine_other_tenants": pct(machine - box - camera - chromium - others_here),
            "cores": os.cpu_count(),
            "unattributed_exited_threads": pct(box - living),
        }

    def backlog_in(self, start: float, end: float) -> dict:
        """Bytes the camera had written that the recorder had not yet read,
        when sampled. ffmpeg writes each fragment (half a second, ~0.75 MB
        at 12 Mbit/s) at once, so a busy moment shows a fragment waiting;
        only a pipe that stays non-empty means a pump falling behind."""
        waiting = [(b, t) for t, b in self.backlog if start <= t <= end]
        most, when = max(waiting, default=(0, start))
        return {"samples": len(waiting), "max_bytes": most,
                "max_at_s": round(when - start, 1),
                "non_empty_pct": round(100 * sum(1 for b, _ in waiting if b) / len(waiting), 1)
                if waiting else None,
                "mean_bytes": round(sum(b for b, _ in waiting) / len(waiting)) if waiting else 0}


# --- the recording's frames ---------------------------------------------------

def video_packets(data: bytes) -> tuple[list[int], str]:
    """Presentation times (in the stream's time base) of every video packet."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=time_base:packet=pts", "-of", "json", "-i", "pipe:0"],
        input=data, capture_output=True, check=True)
    parsed = json.loads(out.stdout)
    return sorted(int(p["pts"]) for p in parsed["packets"]), parsed["streams"][0]["time_base"]


def frame_gaps(pts: list[int], step: int) -> list[tuple[int, int]]:
    """(index, frames missing) wherever consecutive frames are more than one
    frame apart. The synthetic source stamps frame n with n/fps and burns n
    into the picture, so a gap here is a gap in the burned-in counter. (The
    MP4 muxer shifts every frame after the first by the AAC priming, less
    than a frame, 1024/48000 s: that first longer step is not a gap, hence the
    floor.) A step shorter than a frame shows as -1: a frame twice."""
    return [(i, (b - a) // step - 1) for i, (a, b) in enumerate(zip(pts, pts[1:]), 1)
            if (b - a) // step != 1]


def uneven_steps(pts: list[int], step: int) -> int:
    return sum(1 for a, b in zip(pts, pts[1:]) if b - a != step)


def frame_step(pts: list[int]) -> int:
    return Counter(b - a for a, b in zip(pts, pts[1:])).most_common(1)[0][0]


# --- a page's playback ----------------------------------------------------------

PROBE_JS = """() => {
  const v = document.getElementById('video');
  const s = {events: {waiting: [], stalled: [], playing: [], ended: [], error: []},
             samples: [], started: null};
  for (const name of Object.keys(s.events)) {
    v.addEventListener(name, () => s.events[name].push(performance.now()));
  }
  const take = () => {
    const q = v.getVideoPlaybackQuality();
    const b = v.buffered;
    s.samples.push([performance.now(), v.currentTime, b.length ? b.end(b.length - 1) : 0,
                    q.totalVideoFrames, q.droppedVideoFrames, v.readyState, v.paused,
                    v.ended]);
  };
  s.take = take;
  setInterval(take, 100);
  window.__load = s;
}"""

PLAY_JS = """() => { window.__load.started = performance.now(); window.__load.take();
  return document.getElementById('video').play().then(() => true); }"""

COLLECT_JS = """() => { const s = window.__load; s.take();
  const v = document.getElementById('video');
  return {events: s.events, samples: s.samples, started: s.started, duration: v.duration,
          visibility: document.visibilityState, error: v.error && v.error.message}; }"""

SAMPLE = ("t", "time", "buffered", "total", "dropped", "ready", "paused", "ended")


def playback(raw: dict, settle: float = 1.0, lead: float = 1.0) -> dict:
    """Figures of one page's playback, from ``settle`` s after play() on
    (the start-up is the player's, not the box's). A sample is starved
    when fewer than ``lead`` s are buffered ahead of the playhead, short
    of the file's end."""
    samples = [dict(zip(SAMPLE, s)) for s in raw["samples"] if s[0] >= raw["started"]]
    t0 = raw["started"] + settle * 1000
    steady = [s for s in samples if s["t"] >= t0]
    until_end = [s for s in steady if not s["ended"]] or steady
    first, last = until_end[0], until_end[-1]
    wall = (last["t"] - first["t"]) / 1000
    duration = raw["duration"]

    def starved(s: dict) -> bool:
        return s["buffered"] < min(s["time"] + lead, duration - 0.05)

    # freezes: the playhead not moving, wall time from the last sample it moved;
    # a delivery freeze is one during which the bytes were short
    longest, longest_delivery, frozen_since, short = 0.0, 0.0, None, False
    for a, b in zip(until_end, until_end[1:]):
        if b["time"] <= a["time"] and not b["paused"]:
            if frozen_since is None:
                frozen_since, short = a["t"], starved(a)
            short = short or starved(b)
            longest = max(longest, (b["t"] - frozen_since) / 1000)
            if short:
                longest_delivery = max(longest_delivery, (b["t"] - frozen_since) / 1000)
        else:
            frozen_since = None
    ahead = [min(s["buffered"], duration) - s["time"] for s in until_end]
    loading = [s["buffered"] - s["time"] for s in until_end if s["buffered"] < duration - 0.05]
    # performance.now() counts from the page's navigation: when the whole
    # film had arrived, at the latest (the probe starts after the page loads)
    full = next((s[0] for s in raw["samples"] if s[2] >= duration - 0.1), None)
    frames = last["total"] - first["total"]
    dropped = last["dropped"] - first["dropped"]
    return {
        "wall_seconds": round(wall, 2),
        "media_seconds": round(last["time"] - first["time"], 2),
        "rate": round((last["time"] - first["time"]) / wall, 3) if wall else 0.0,
        "longest_stall_s": round(longest, 2),
        "longest_delivery_stall_s": round(longest_delivery, 2),
        "waiting_events": len([t for t in raw["events"]["waiting"] if t >= t0]),
        "stalled_events": len([t for t in raw["events"]["stalled"] if t >= t0]),
        "waiting_events_at_start": len([t for t in raw["events"]["waiting"] if t < t0]),
        "frames_presented": frames - dropped,
        "frames_dropped": dropped,
        "dropped_pct": round(100 * dropped / frames, 1) if frames else None,
        "decoded_fps": round(frames / wall, 1) if wall else 0.0,
        "min_buffered_ahead_s": round(min(ahead), 2),  # the film's end caps it
        "min_lead_while_loading_s": round(min(loading), 2) if loading else None,
        "starved_samples": sum(1 for s in until_end if starved(s)),
        "fully_buffered_s_after_navigation": round(full / 1000, 2) if full else None,
        "buffered_at_play_s": round(samples[0]["buffered"], 2),
        "play_s_after_navigation": round(raw["started"] / 1000, 2),
        "ended": bool(last["ended"] or samples[-1]["ended"]),
        "visibility": raw["visibility"],
        "error": raw["error"],
        "sample_gap_max_s": round(max(((b["t"] - a["t"]) / 1000 for a, b in
                                       zip(until_end, until_end[1:])), default=0), 2),
    }


def uptime_load() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def busiest_other_processes(exclude: set[int], seconds: float = 1.0) -> list[dict]:
    """The machine's other tenants: the processes using most CPU now."""
    def snap():
        out = {}
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in exclude:
                stat = _read(f"/proc/{name}/stat")
                if stat:
                    out[int(name)] = (cpu_of(stat)[0], stat[stat.index("(") + 1:stat.rindex(")")])
        return out
    before = snap()
    time.sleep(seconds)
    after = snap()
    rows = [{"pid": p, "comm": c, "cpu_pct": round(100 * (cpu - before[p][0]) / seconds)}
            for p, (cpu, c) in after.items() if p in before]
    return sorted([r for r in rows if r["cpu_pct"] >= 5], key=lambda r: -r["cpu_pct"])


