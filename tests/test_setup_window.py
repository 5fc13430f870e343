"""The set-up window's file: what one process writes, the other reads."""

from appliance.intervention.setup_window import SetupWindow


def window(tmp_path, now, boot="boot-1"):
    return SetupWindow(tmp_path / "setup-window", clock=lambda: now[0], boot=lambda: boot)


def test_a_window_of_another_boot_is_shut(tmp_path):
    now = [50.0]
    window(tmp_path, now, "boot-1").open(600)
    assert window(tmp_path, now, "boot-1").is_open()
    assert not window(tmp_path, now, "boot-2").is_open(), "a reboot shuts it"


def test_closing_keeps_the_press_and_a_bad_file_is_shut(tmp_path):
    now = [50.0]
    shown = window(tmp_path, now)
    shown.open(600)
    shown.close()
    assert not shown.is_open() and shown.pressed_at() == 50.0
    for junk in ("", "[]", "{", '{"boot": "boot-1", "until": "soon"}'):
        (tmp_path / "setup-window").write_text(junk)
        try:
            assert not shown.is_open()
        except ValueError:
            raise AssertionError(f"{junk!r} raised") from None


def test_a_reader_that_cannot_know_the_boot_trusts_the_recorder_s_file(tmp_path):
    """The page's sandbox (ProcSubset=pid) hides /proc/sys: it read the
    boot id as unknown, the recorder wrote the real one, and on the device
    the window never opened for the page."""
    now = [50.0]
    window(tmp_path, now, "boot-1").open(600)
    assert window(tmp_path, now, "unknown").is_open()
    assert window(tmp_path, now, "unknown").pressed_at() == 50.0
