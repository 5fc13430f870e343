"""ffmpeg command lines, checked as lists (they are pure functions)."""

from appliance.capture import commands
from appliance.capture.commands import VideoProfile

PROFILE = VideoProfile(width=1280, height=720, fps=25, video_bitrate=8_000_000)


def option(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_every_source_writes_fragmented_mp4_to_stdout():
    for cmd in (commands.synthetic_command(PROFILE),
                commands.v4l2_command(PROFILE)):
        assert cmd[0] == "ffmpeg" and cmd[-1] == "pipe:1"
        assert option(cmd, "-f") in ("lavfi", "v4l2")
        assert option(cmd, "-movflags") == "frag_keyframe+empty_moov+default_base_moof"
        assert option(cmd, "-frag_duration") == "500000"
        assert "-nostdin" in cmd[:4], "global options come first"
        assert not any(arg.endswith((".mp4", ".tmp")) or arg.startswith("/tmp") for arg in cmd)


def test_encoders_make_a_keyframe_every_second_with_headers():
    cmd = commands.synthetic_command(PROFILE)
    assert option(cmd, "-g") == option(cmd, "-keyint_min") == "25"
    assert option(cmd, "-sc_threshold") == "0"
    assert option(cmd, "-x264-params") == "repeat-headers=1"
    assert option(cmd, "-b:v") == "8000000" and option(cmd, "-acodec") == "aac"


def test_synthetic_source_paces_in_real_time_unless_asked_not_to():
    assert "-re" in commands.synthetic_command(PROFILE)
    fast = commands.synthetic_command(PROFILE, seconds=20, realtime=False)
    assert "-re" not in fast and option(fast, "-t") == "20"
    assert "testsrc2=size=1280x720:rate=25" in fast


def test_v4l2_reads_the_camera_and_the_microphone():
    cmd = commands.v4l2_command(PROFILE, device="/dev/video2", audio_device="plughw:1")
    inputs = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-i"]
    assert inputs == ["/dev/video2", "plughw:1"]
    assert option(cmd, "-video_size") == "1280x720"


def test_bytes_per_second_covers_the_stream():
    assert PROFILE.bytes_per_second > (8_000_000 + 128_000) // 8


def test_the_synthetic_camera_plays_the_sound_file_the_settings_name(settings, tmp_path):
    """The demo's camera speaks a dialogue (make demo); a file that is not
    there is a clear SourceError at the take, not a silent tone."""
    from dataclasses import replace

    import pytest

    from appliance.capture import make_source
    from appliance.errors import SourceError
    source = make_source(replace(settings, synthetic_sound=str(tmp_path / "talk.wav")))
    assert source.sound == str(tmp_path / "talk.wav")
    with pytest.raises(SourceError, match="talk.wav"):
        source.open()
    assert make_source(settings).sound is None


# --- the editor's commands: a film decrypted into stdin, the work on stdout --

QUIET_PIPE = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"]


def test_the_editor_s_commands_read_stdin_and_write_stdout_as_lists():
    from appliance.capture.preview import preview_command
    from appliance.film.clips import cut_command, still_command
    from appliance.film.overview import filmstrip_command
    frag = "frag_keyframe+empty_moov+default_base_moof"
    assert cut_command("exact", offset=0.479, duration=1.5) == [
        *QUIET_PIPE, "-i", "pipe:0", "-f", "mp4", "-b:a", "128k", "-bf", "0", "-c:a", "aac",
        "-c:v", "libx264", "-crf", "18", "-movflags", frag, "-pix_fmt", "yuv420p",
        "-preset", "veryfast", "-ss", "0.479", "-t", "1.500", "pipe:1"]
    assert cut_command("fast", offset=0, duration=1) == [
        *QUIET_PIPE, "-i", "pipe:0", "-f", "mp4", "-c", "copy", "-movflags", frag,
        "-ss", "0.000", "-t", "1.000", "pipe:1"]
    assert still_command(1.25) == [*QUIET_PIPE, "-i", "pipe:0", "-f", "mjpeg", "-frames:v", "1",
                                   "-q:v", "2", "-ss", "1.250", "pipe:1"]
    assert filmstrip_command() == [
        *QUIET_PIPE, "-skip_frame", "nokey", "-i", "pipe:0", "-f", "image2pipe", "-c:v", "mjpeg",
        "-fps_mode", "passthrough", "-map", "0:v", "-q:v", "6", "-vf", "scale=160:-2", "pipe:1"]
    assert preview_command(480) == [*QUIET_PIPE, "-i", "pipe:0", "-f", "mjpeg", "-frames:v", "1",
                                    "-q:v", "6", "-vf", "scale=480:-2", "pipe:1"]


def hand_written_commands(source: str) -> list[int]:
    """Lines where a list starts with "ffmpeg" or "ffprobe" by hand."""
    import ast
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.List) and node.elts
            and isinstance(node.elts[0], ast.Constant) and node.elts[0].value in ("ffmpeg", "ffprobe")]


def test_every_ffmpeg_the_box_runs_is_built_by_ffmpeg_python():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    found = {str(path.relative_to(root)): lines
             for package in ("appliance", "web", "vigbox") for path in (root / package).rglob("*.py")
             if (lines := hand_written_commands(path.read_text()))}
    assert found == {}
    assert hand_written_commands('cmd = ["ffmpeg", "-i", "pipe:0", "pipe:1"]\n') == [1]
