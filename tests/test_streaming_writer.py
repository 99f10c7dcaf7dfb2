"""The streaming writer: points in arrival order, series interleaved, chunks of any size, read back
bit for bit; memory bounded by the budget; nothing left behind when a write fails."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.data.dataset import Series, assert_identical
from lib.storage.metrics_file import MetricsFile, read_file
from lib.storage.streaming_writer import POINT_BYTES, StreamingWriter, write_file
from tests.conftest import awkward_dataset
from tests.test_dataset import datasets


def arrival_order(series_list, cuts):
    """The series' points as (series, start, end) chunks, interleaved: `cuts` says how many points
    each successive chunk takes, round robin over the series that still have points."""
    positions = [0] * len(series_list)
    chunks, turn = [], 0
    cuts = iter(cuts)
    while any(p < len(s) for p, s in zip(positions, series_list)):
        index = turn % len(series_list)
        turn += 1
        s, start = series_list[index], positions[index]
        if start >= len(s):
            continue
        end = min(len(s), start + next(cuts, len(s)))
        chunks.append((s, start, end))
        positions[index] = end
    return chunks


@settings(max_examples=60, deadline=None)
@given(datasets(max_points=60), st.lists(st.integers(1, 25), max_size=40), st.integers(1, 16), st.integers(1, 40))
def test_interleaved_chunks_read_back_as_the_series_in_arrival_order(tmp_path_factory, series_list, cuts,
                                                                     block_points, budget_points):
    path = tmp_path_factory.mktemp("sw") / "m.bin"
    with StreamingWriter(path, block_points, memory_budget=budget_points * POINT_BYTES) as writer:
        for s in series_list:
            writer.add(s.name, s.labels, [], [])  # listed even if it never gets a point
        for s, start, end in arrival_order(series_list, cuts):
            writer.add(s.name, s.labels, s.timestamps[start:end], s.values[start:end])
            assert writer.buffered <= budget_points
    assert_identical(series_list, read_file(path))
    with MetricsFile(path) as f:
        for entry, s in zip(f.series, series_list):
            assert all(1 <= b.points <= block_points for b in entry.blocks)
            at = np.cumsum([0] + [b.points for b in entry.blocks])
            ranges = [(int(s.timestamps[a:b].min()), int(s.timestamps[a:b].max())) for a, b in zip(at, at[1:])]
            assert ranges == [(b.min_timestamp, b.max_timestamp) for b in entry.blocks]


def test_the_budget_cuts_the_largest_buffers_first(tmp_path):
    with StreamingWriter(tmp_path / "m.bin", block_points=100, memory_budget=20 * POINT_BYTES) as writer:
        writer.add("a", {}, np.arange(9), np.zeros(9))
        writer.add("b", {}, np.arange(6), np.zeros(6))
        writer.add("c", {}, np.arange(4), np.zeros(4))
        assert writer.buffered == 19 and not any(b.blocks for b in writer.series.values())
        writer.add("c", {}, [10, 11], [1.0, 1.0])  # 21 points: over budget, cut until 10 or fewer remain
        assert [len(b.blocks) for b in writer.series.values()] == [1, 1, 0]
        assert writer.buffered == 6
    with MetricsFile(tmp_path / "m.bin") as f:
        assert [[b.points for b in e.blocks] for e in f.series] == [[9], [6], [6]]


def test_a_series_reaching_block_points_is_cut_at_once(tmp_path):
    with StreamingWriter(tmp_path / "m.bin", block_points=4) as writer:
        writer.add("m", {"a": "1"}, [1, 2, 3], [0.5, 0.5, 0.5])
        assert writer.buffered == 3
        writer.add("m", {"a": "1"}, [4, 5, 6, 7, 8, 9], [0.5] * 6)
        assert writer.buffered == 1 and [b.points for b in writer.series[("m", (("a", "1"),))].blocks] == [4, 4]


def test_blocks_of_series_interleave_in_the_file_in_the_order_they_were_cut(tmp_path):
    with StreamingWriter(tmp_path / "m.bin", block_points=2) as writer:
        for t in range(4):
            writer.add("a", {}, [t], [1.0])
            writer.add("b", {}, [t], [2.0])
    with MetricsFile(tmp_path / "m.bin") as f:
        offsets = {e.name: [b.offset for b in e.blocks] for e in f.series}
    a, b = offsets["a"], offsets["b"]
    assert a[0] < b[0] < a[1] < b[1]


def test_out_of_order_and_repeated_timestamps_stay_in_arrival_order(tmp_path):
    with StreamingWriter(tmp_path / "m.bin", block_points=3) as writer:
        writer.add("m", {}, [50, 10, 10], [1.0, 2.0, 3.0])
        writer.add("m", {}, [40, 40, -5, 7], [4.0, 5.0, 6.0, 7.0])
    (s,) = read_file(tmp_path / "m.bin")
    assert s.timestamps.tolist() == [50, 10, 10, 40, 40, -5, 7]
    with MetricsFile(tmp_path / "m.bin") as f:
        assert [(b.min_timestamp, b.max_timestamp) for b in f.series[0].blocks] == [(10, 50), (-5, 40), (7, 7)]


def test_write_file_is_the_writer_fed_whole_series(tmp_path):
    series_list = awkward_dataset()
    size = write_file(tmp_path / "m.bin", series_list, block_points=2)
    assert size == (tmp_path / "m.bin").stat().st_size
    assert_identical(series_list, read_file(tmp_path / "m.bin"))
    with MetricsFile(tmp_path / "m.bin") as f:
        offsets = [b.offset for e in f.series for b in e.blocks]
    assert offsets == sorted(offsets)  # series after series, as the batch writer always wrote them


class PowerCut(Exception):
    pass


@pytest.mark.parametrize("error", [PowerCut, KeyboardInterrupt])
def test_an_error_midway_leaves_no_file_and_the_previous_one_intact(tmp_path, error):
    path = tmp_path / "m.bin"
    write_file(path, awkward_dataset())
    before = path.read_bytes()
    with pytest.raises(error), StreamingWriter(path, block_points=2) as writer:
        writer.add("m", {}, np.arange(10), np.zeros(10))
        raise error()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.bin"]
    with pytest.raises(PowerCut), StreamingWriter(tmp_path / "new.bin") as writer:
        writer.add("m", {}, [1], [1.0])
        raise PowerCut()
    assert [p.name for p in tmp_path.iterdir()] == ["m.bin"]


def test_abort_removes_the_temporary_file(tmp_path):
    writer = StreamingWriter(tmp_path / "m.bin")
    writer.add("m", {}, [1, 2], [1.0, 2.0])
    writer.abort()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name,labels,timestamps,values,message", [
    ("", {}, [1], [1.0], "metric name"),
    ("m", {"k": 1}, [1], [1.0], "str to str"),
    ("m", {"k": "\ud800"}, [1], [1.0], "UTF-8"),
    ("m", {}, [1, 2], [1.0], "timestamps but"),
])
def test_bad_series_are_refused_and_nothing_is_written(tmp_path, name, labels, timestamps, values, message):
    with pytest.raises(ValueError, match=message), StreamingWriter(tmp_path / "m.bin") as writer:
        writer.add(name, labels, timestamps, values)
    assert list(tmp_path.iterdir()) == []


def test_duplicate_series_in_a_batch_write_are_refused_and_nothing_is_written(tmp_path):
    twice = [Series("m", {}, [1], [1.0]), Series("m", {}, [2], [2.0])]
    with pytest.raises(ValueError, match="duplicate series"):
        write_file(tmp_path / "m.bin", twice)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("options", [{"block_points": 0}, {"block_points": 65536}, {"memory_budget": 15}])
def test_impossible_settings_are_refused_before_anything_is_written(tmp_path, options):
    with pytest.raises(ValueError):
        StreamingWriter(tmp_path / "m.bin", **options)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_file_has_no_series(tmp_path):
    with StreamingWriter(tmp_path / "m.bin"):
        pass
    assert read_file(tmp_path / "m.bin") == []
