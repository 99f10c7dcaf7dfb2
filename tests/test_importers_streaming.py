"""Streaming import: the same readers feed a StreamingWriter through a WriterSink, holding a bounded
number of points at a time, and the file holds exactly what import_paths collects."""
import numpy as np
import pytest

from lib.data.dataset import canonical_order
from lib.data.importers import files, import_paths, points, read_paths
from lib.data.importers.points import WriterSink
from lib.storage.metrics_file import read_file
from lib.storage.streaming_writer import StreamingWriter
from tests.importer_inputs import PROMETHEUS, T0, T0_NS, write

SMALL_CHUNK = 64  # bytes of text per chunk: a few lines, so every file takes many chunks


def interleaved_long_csv(points=40, series=3):
    rows = ["timestamp,metric,host,value"]
    for i in range(points):
        for host in range(series):
            rows.append(f"{T0 + 15 * i},cpu,h{host},{(i * 7 + host) % 13 / 4}")
    return "\n".join(rows) + "\n"


def interleaved_line_protocol(points=40, series=3):
    return "".join(f"cpu,host=h{host} usage={(i * 7 + host) % 13 / 4},up=1i {T0_NS + 15 * 10**9 * i}\n"
                   for i in range(points) for host in range(series))


class RecordingWriter:
    """A writer stand-in that keeps what it is given, to see how the sink hands points on."""

    def __init__(self):
        self.calls = []

    def add(self, name, labels, timestamps, values):
        self.calls.append((name, dict(labels), timestamps.copy(), values.copy()))


@pytest.mark.parametrize("name,content", [
    ("long.csv", interleaved_long_csv()),
    ("metrics.lp", interleaved_line_protocol()),
    ("query.json", PROMETHEUS),
])
def test_a_streamed_import_writes_what_import_paths_collects(tmp_path, monkeypatch, name, content):
    monkeypatch.setattr(files, "CHUNK_BYTES", SMALL_CHUNK)
    path = write(tmp_path, name, content)
    with StreamingWriter(tmp_path / "m.bin", block_points=7, memory_budget=16 * 20) as writer:
        result = read_paths([path], WriterSink(writer))
    assert result.series == [] and result.files == [str(path)]
    collected = import_paths([path]).series
    streamed = read_file(tmp_path / "m.bin")
    assert [s.key for s in streamed] == [s.key for s in collected]
    for a, b in zip(streamed, collected):
        assert np.array_equal(a.timestamps, b.timestamps)
        assert np.array_equal(a.values.view(np.uint64), b.values.view(np.uint64))


def test_the_sink_hands_points_on_between_chunks_so_it_holds_a_bounded_number(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK_BYTES", SMALL_CHUNK)
    monkeypatch.setattr(points, "MOVE_POINTS", 10)
    content = interleaved_long_csv(points=200)
    path = write(tmp_path, "long.csv", content)
    held = []

    class CountingSink(WriterSink):
        def finish(self):
            held.append(sum(len(entry[2]) for entry in self._series.values()))  # (name, labels, timestamps, values)
            super().finish()

    writer = RecordingWriter()
    read_paths([path], CountingSink(writer))
    shortest = min(len(line) + 1 for line in content.splitlines()[1:])
    lines_per_chunk = SMALL_CHUNK // shortest + 1  # the most lines a chunk can complete
    assert len(held) > 600 // (10 + lines_per_chunk)  # handed on many times, not once at the end
    assert max(held) < 10 + lines_per_chunk and sum(held) == 600
    per_host = {}
    for name, labels, timestamps, _ in writer.calls:
        if name == "cpu":
            per_host.setdefault(labels["host"], []).extend(timestamps.tolist())
    assert all(times == [T0_NS + 15 * 10**9 * i for i in range(200)] for times in per_host.values())


def test_the_sink_counts_repeated_and_earlier_timestamps_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK_BYTES", SMALL_CHUNK)
    rows = [f"{t},m,1" for t in (10, 20, 20, 30, 5, 40, 40, 40)]
    path = write(tmp_path, "m.csv", "timestamp,metric,value\n" + "\n".join(rows) + "\n")
    sink = WriterSink(RecordingWriter())
    read_paths([path], sink)
    assert sink.points == 8
    assert sink.order_warnings() == ["m{}: 3 timestamps equal to the one before and 1 earlier than the one before, "
                                     "kept as given"]


def test_a_series_met_in_two_files_continues_in_the_writer(tmp_path):
    first = write(tmp_path, "a.lp", "m,host=a v=1 1000\nm,host=a v=2 2000\n")
    second = write(tmp_path, "b.lp", "m,host=a v=3 3000\n")
    with StreamingWriter(tmp_path / "m.bin") as writer:
        read_paths([first, second], WriterSink(writer))
    (s,) = read_file(tmp_path / "m.bin")
    assert s.timestamps.tolist() == [1000, 2000, 3000] and s.values.tolist() == [1.0, 2.0, 3.0]
    assert canonical_order(import_paths([first, second]).series)[0].key == s.key
