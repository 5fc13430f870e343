"""Figure 12's measurements (bench/stream_choice.py) on a second of the
simulated camera: each stream really made by ffmpeg and measured."""

from bench import stream_choice
from bench.stream_choice import AIR, PROXY, TODAY


def test_each_stream_is_made_and_measured(tmp_path):
    found = stream_choice.weigh(stream_choice.SOURCES["the simulated camera"], 1, tmp_path)
    assert set(found) == {TODAY, AIR, PROXY}
    for entry in found.values():
        assert 0.5 < entry["ssim"] <= 1.0 and entry["cpu"] > 0
    assert found[TODAY]["bytes"] > found[AIR]["bytes"] > found[PROXY]["bytes"]
    # a test pattern's sharp edges: a third of the pixels cannot keep them
    assert found[PROXY]["ssim"] < found[AIR]["ssim"] < found[TODAY]["ssim"]
