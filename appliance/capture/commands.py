"""ffmpeg command lines for each video source, built by pure functions.

Every source ends the same way: H.264 and AAC muxed into fragmented MP4
(one keyframe a second, a fragment every half second) written to stdout, from
where the recorder seals it. Nothing here runs a process; the tests check
these lists, and :mod:`.runner` runs them. Every ffmpeg the box runs is
built with ffmpeg-python, here or through :func:`piped` (a film decrypted
into ffmpeg's stdin: clips, stills, the overview, the preview).

>>> cmd = synthetic_command(VideoProfile(width=320, height=240), seconds=2)
>>> cmd[:3], cmd[-1]
(['ffmpeg', '-hide_banner', '-nostdin'], 'pipe:1')
>>> "frag_keyframe+empty_moov+default_base_moof" in cmd
True
"""

from dataclasses import dataclass
from pathlib import Path

import ffmpeg

FFMPEG = "ffmpeg"
GLOBAL_ARGS = ["-hide_banner", "-nostdin", "-loglevel", "warning", "-stats_period", "1"]
# fragmented MP4 that a browser plays while it grows: no moov at the end
FRAGMENTED_MP4 = "frag_keyframe+empty_moov+default_base_moof"
OUTPUT = "pipe:1"
PIPE_IN = "pipe:0"
# the editor's commands say only their errors, which the box reports
QUIET_ARGS = ["-hide_banner", "-nostdin", "-loglevel", "error"]
# a fragment at every keyframe (each second) and at least every half second:
# the muxer holds a fragment until it is whole, so this bounds both the
# delay to the first sealed byte and what a power cut can take
FRAGMENT_MICROSECONDS = 500_000
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf")
# the synthetic source beeps, and flashes a white square, on these frames
# of every second: tests find both and measure the A/V offset
BEEP_FRAMES = 2
BEEP_HZ = 1000
AUDIO_RATE = 48000


@dataclass(frozen=True)
class VideoProfile:
    """What the recorder asks of any source."""

    width: int = 1920
    height: int = 1080
    fps: int = 30
    # 6 Mbit/s at 1080p30 (picamera2's Quality.MEDIUM for the Pi 4's encoder):
    # two laptops, or one at 2x, play it over the hotspot without a stall,
    # where 12 Mbit/s did not fit (docs/performance.md, figures 11 and 12)
    video_bitrate: int = 6_000_000
    audio_bitrate: int = 128_000

    @property
    def bytes_per_second(self) -> int:
        """For free-space checks: the encoded stream, container included."""
        return (self.video_bitrate + self.audio_bitrate) * 105 // 100 // 8


def _encode(profile: VideoProfile, *, preset: str) -> dict:
    """H.264 with a keyframe every second (so every fragment starts on
    one and a clip cut can seek to it) and SPS/PPS before each keyframe."""
    return {
        "vcodec": "libx264", "preset": preset, "tune": "zerolatency",
        "pix_fmt": "yuv420p", "g": profile.fps, "keyint_min": profile.fps,
        "sc_threshold": 0, "b:v": profile.video_bitrate,
        "maxrate": profile.video_bitrate, "bufsize": profile.video_bitrate,
        "x264-params": "repeat-headers=1",
        "acodec": "aac", "b:a": profile.audio_bitrate, "ar": AUDIO_RATE, "ac": 1,
    }


def _mux(seconds: float | None) -> dict:
    options = {"f": "mp4", "movflags": FRAGMENTED_MP4, "frag_duration": FRAGMENT_MICROSECONDS}
    if seconds is not None:
        options["t"] = seconds
    return options


def _compile(stream) -> list[str]:
    cmd = stream.compile(cmd=FFMPEG)
    return [cmd[0], *GLOBAL_ARGS, *cmd[1:]]


def synthetic_command(profile: VideoProfile, *, seconds: float | None = None,
                      realtime: bool = True, sound: str | None = None) -> list[str]:
    """The lavfi test pattern with a burned-in frame counter and timecode,
    and a tone that beeps while a white square flashes on known frames
    (or ``sound``, a file, from its start and over again).

    >>> cmd = synthetic_command(VideoProfile(), sound="talk.wav", seconds=5)
    >>> cmd[cmd.index("talk.wav") - 3:cmd.index("talk.wav") + 1]
    ['-stream_loop', '-1', '-i', 'talk.wav']
    """
    size = f"{profile.width}x{profile.height}"
    flash = f"lt(mod(n,{profile.fps}),{BEEP_FRAMES})"
    pace = {"re": None} if realtime else {}
    video = ffmpeg.input(f"testsrc2=size={size}:rate={profile.fps}", f="lavfi", **pace)
    square = profile.height // 6
    video = video.drawbox(0, 0, square, square, color="white", t="fill", enable=flash)
    text = {"fontfile": str(FONT)} if FONT.exists() else {}
    # .filter, not .drawtext: the helper would escape the % of the expansion
    video = video.filter("drawtext", text="%{frame_num}", start_number=0, x=profile.height // 5,
                           y=20, fontsize=profile.height // 12, fontcolor="white",
                           box=1, boxcolor="black", **text)
    video = video.filter("drawtext", timecode="00:00:00:00", rate=profile.fps, x=profile.height // 5,
                           y=40 + profile.height // 12, fontsize=profile.height // 18,
                           fontcolor="yellow", box=1, boxcolor="black", **text)
    beep_seconds = BEEP_FRAMES / profile.fps
    tone = f"if(lt(mod(t\\,1)\\,{beep_seconds:.6f})\\,0.5*sin(2*PI*{BEEP_HZ}*t)\\,0)"
    audio = (ffmpeg.input(sound, stream_loop=-1, **pace) if sound else
             ffmpeg.input(f"aevalsrc={tone}:s={AUDIO_RATE}:c=mono", f="lavfi", **pace))
    return _compile(ffmpeg.output(video, audio, OUTPUT, **_encode(profile, preset="ultrafast"),
                                  **_mux(seconds)))


def piped(output) -> list[str]:
    """The command line of ``output``, an ffmpeg-python output node: in the
    box, a film decrypted into ffmpeg's stdin (``pipe:0``), its work on
    stdout. ffmpeg-python would put global options after the output,
    where ffmpeg ignores them, so ours go first.

    >>> piped(ffmpeg.input(PIPE_IN).output(OUTPUT, format="mjpeg"))
    ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'pipe:0', '-f', 'mjpeg', 'pipe:1']
    """
    return [FFMPEG, *QUIET_ARGS, *output.compile(cmd=FFMPEG)[1:]]


def sound_command(rate: int) -> list[str]:
    """A film on stdin to its sound on stdout, mono 16-bit samples at
    ``rate`` (the editor's sound peaks; the interaction map).

    >>> sound_command(8000)[5:]
    ['-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', '8000', '-map', '0:a:0', 'pipe:1']
    """
    return piped(ffmpeg.input(PIPE_IN).output(OUTPUT, map="0:a:0", ac=1, ar=rate, f="s16le"))


def v4l2_command(profile: VideoProfile, *, device: str = "/dev/video0",
                 audio_device: str = "auto", seconds: float | None = None) -> list[str]:
    """A USB webcam (V4L2) and microphone (ALSA) on any Linux."""
    video = ffmpeg.input(device, f="v4l2", framerate=profile.fps,
                         video_size=(profile.width, profile.height),
                         thread_queue_size=512)
    audio = ffmpeg.input(audio_device, f="alsa", thread_queue_size=512)
    return _compile(ffmpeg.output(video, audio, OUTPUT, **_encode(profile, preset="veryfast"),
                                  **_mux(seconds)))
