"""The METRICS! file: exact round trips and random access that touches only what it needs (damage:
tests/test_corruption.py; old files: tests/test_compatibility.py)."""
import contextlib
import os
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.data.dataset import Series, assert_identical
from lib.errors import FormatError
from lib.runner.phases import OUTPUT_FILENAMES
from lib.storage.file_layout import FOOTER, HEADER, MAGIC, pack_index_section
from lib.storage.index_section import BlockEntry, pack_index, series_entry
from lib.storage.metrics_file import (
    MAX_BLOCK_POINTS, MetricsFile, check_time_ranges, encode_block, overlapping_blocks, read_file,
)
from lib.storage.streaming_writer import write_file
from tests.conftest import awkward_dataset, run_script, small_slices
from tests.test_dataset import datasets


def test_header_and_footer_frame_the_blocks_and_the_index(small_file):
    path, _ = small_file
    data = path.read_bytes()
    assert HEADER.unpack_from(data) == (b"METRICS!", 4, 100, 0)
    index_offset, index_length, crc, magic = FOOTER.unpack_from(data, len(data) - FOOTER.size)
    assert magic == b"METRICS!" and index_offset + index_length + FOOTER.size == len(data)
    assert crc == zlib.crc32(data[:HEADER.size] + data[index_offset:index_offset + index_length])
    with MetricsFile(path) as f:
        assert (f.data_offset, f.data_length) == (HEADER.size, index_offset - HEADER.size)


def hand_built_file(index, blocks=b""):
    """A version-3 file put together from the documented layout (docs/format.md), none of the writer's code."""
    header = MAGIC + struct.pack("<HHI", 3, 2, 0)
    section = struct.pack("<I", len(index)) + zlib.compress(index)[2:-4]  # raw DEFLATE: no zlib header or trailer
    footer = struct.pack("<QII", 16 + len(blocks), len(section), zlib.crc32(header + section)) + MAGIC
    return header + blocks + section + footer


def test_hand_built_file_with_one_empty_series_is_read(tmp_path):
    # strings "up", "host", "a"; one series up{host="a"}: name 0, one label 1 = 2, no blocks
    index = bytes([3, 2, 4, 1]) + b"uphosta" + bytes([1, 0, 1, 1, 2, 0])
    path = tmp_path / "hand.bin"
    path.write_bytes(hand_built_file(index))
    assert_identical([Series("up", {"host": "a"}, [], [])], read_file(path))


def test_hand_built_file_with_two_blocks_is_read(tmp_path):
    first = encode_block(np.array([10, 20]), np.array([1.5, 2.5]), choose_codecs=False)
    second = encode_block(np.array([30]), np.array([-0.0]), choose_codecs=False)
    # the index of lib/storage/index_section.py's worked example, with these blocks' lengths
    index = (bytes([3, 2, 3, 1]) + b"upjoba" + bytes([1, 0, 1, 1, 2, 2, 0, 0, len(first), len(second), 2, 1])
             + bytes([20, 20, 10, 0]))
    path = tmp_path / "hand.bin"
    path.write_bytes(hand_built_file(index, first + second))
    assert_identical([Series("up", {"job": "a"}, [10, 20, 30], [1.5, 2.5, -0.0])], read_file(path))


def test_the_worked_index_of_the_index_module_docstring():
    blocks = [BlockEntry(0, 40, 2, 10, 20), BlockEntry(40, 36, 1, 30, 30)]
    index = pack_index([series_entry("up", {"job": "a"}, blocks)])
    assert index.hex(" ").upper() == ("03 02 03 01 75 70 6A 6F 62 61 01 00 01 01 02 02 00 00 28 24 02 01 14 14 "
                                      "0A 00")


def test_hand_built_version_2_file_with_one_empty_series_is_read(tmp_path):
    # Version 2, from its documented layout: strings "up", "host", "a"; one series up{host="a"}
    # with no points and no blocks.
    index = (struct.pack("<I", 3) + b"".join(struct.pack("<I", len(s)) + s for s in (b"up", b"host", b"a"))
             + struct.pack("<I", 1) + struct.pack("<IH", 0, 1) + struct.pack("<II", 1, 2)
             + struct.pack("<QqqI", 0, 0, -1, 0))
    section = pack_index_section(index)
    header = MAGIC + struct.pack("<HHIQQ", 2, 0, len(section), 32 + len(section) + 4, 0)
    path = tmp_path / "hand.bin"
    path.write_bytes(header + section + struct.pack("<I", zlib.crc32(header + section)))
    assert_identical([Series("up", {"host": "a"}, [], [])], read_file(path))


@settings(max_examples=40, deadline=None)
@given(datasets(max_points=40), st.integers(1, 12), st.booleans(), st.booleans())
def test_any_dataset_round_trips_for_any_block_size_and_codec_setting(tmp_path_factory, series_list, block_points,
                                                                       choose_codecs, exhaustive):
    path = tmp_path_factory.mktemp("bf") / "m.bin"
    write_file(path, series_list, block_points, choose_codecs=choose_codecs, exhaustive=exhaustive)
    assert_identical(series_list, read_file(path))


def test_codec_choice_records_its_winners_and_beats_gorilla_on_decimals(tmp_path):
    cpu = Series("cpu", {}, np.arange(2048, dtype=np.int64) * 15_000,
                 np.round(np.random.default_rng(1).uniform(0, 100, 2048), 2))
    usage = {}
    best = write_file(tmp_path / "best.bin", [cpu], 1024, codec_usage=usage)
    gorilla_usage = {}
    gorilla = write_file(tmp_path / "gorilla.bin", [cpu], 1024, choose_codecs=False, codec_usage=gorilla_usage)
    assert {name: row["points"] for name, row in usage["values"].items()} == {"decimal-bins": 2048}
    assert usage["by_metric"] == {"cpu": {"decimal-bins": 2048}}
    assert list(gorilla_usage["values"]) == ["gorilla"] and list(gorilla_usage["timestamps"]) == ["gorilla"]
    assert best < 0.5 * gorilla  # 2-decimal values in [0, 100) need ~14 bits, Gorilla spends ~60
    assert_identical([cpu], read_file(tmp_path / "best.bin"))


def test_a_block_of_constant_values_costs_a_few_bytes(tmp_path):
    up = Series("up", {}, np.arange(1000, dtype=np.int64) * 15_000_000_000, np.ones(1000))
    size = write_file(tmp_path / "up.bin", [up], 1000)
    with MetricsFile(tmp_path / "up.bin") as f:
        [block] = f.series[0].blocks
    # 14 bytes of block framing, a 1-bit-per-point timestamp stream (~125 bytes), a tiny value stream
    assert block.length < 14 + 64 + 6 + 1 + 1000 // 8 + 16
    assert_identical([up], read_file(tmp_path / "up.bin"))
    assert size == (tmp_path / "up.bin").stat().st_size


def test_awkward_dataset_round_trips(tmp_path):
    write_file(tmp_path / "m.bin", awkward_dataset(), block_points=2)
    assert_identical(awkward_dataset(), read_file(tmp_path / "m.bin"))


def test_listing_series_reads_no_data_block(small_file):
    path, series_list = small_file
    with MetricsFile(path) as f:
        assert [(e.name, e.labels, e.points) for e in f.series] == [(s.name, s.labels, len(s)) for s in series_list]
        assert f.bytes_read == f.layout.overhead  # header, index and footer: no block


def test_reading_one_series_touches_only_its_blocks(small_file):
    path, series_list = small_file
    target = series_list[2]
    with MetricsFile(path) as f:
        before = f.bytes_read
        assert_identical([target], [f.read_series(target.name, target.labels)])
        assert f.bytes_read - before == sum(b.length for b in f.find(target.name, target.labels).blocks)


def test_time_range_reads_only_overlapping_blocks(small_file):
    path, series_list = small_file
    target = series_list[0]
    start, end = int(target.timestamps[250]), int(target.timestamps[260])
    with MetricsFile(path) as f:
        before = f.bytes_read
        window = f.read_range(target.name, target.labels, start, end)
        blocks = f.find(target.name, target.labels).blocks
    assert np.array_equal(window.timestamps, target.timestamps[250:260])
    assert np.array_equal(window.values.view(np.uint64), target.values[250:260].view(np.uint64))
    assert f.bytes_read - before == blocks[2].length  # points 200..299 live in block 2 only


def test_time_range_boundaries_are_start_inclusive_end_exclusive(tmp_path):
    series = Series("m", {}, [10, 20, 30, 40], [1.0, 2.0, 3.0, 4.0])
    write_file(tmp_path / "m.bin", [series], block_points=2)
    with MetricsFile(tmp_path / "m.bin") as f:
        assert f.read_range("m", {}, 20, 40).timestamps.tolist() == [20, 30]
        assert f.read_range("m", {}, 41, 100).timestamps.tolist() == []
        assert f.read_range("m", {}, 0, 10).timestamps.tolist() == []


def test_unsorted_series_range_read_finds_every_matching_point(tmp_path):
    series = Series("m", {}, [50, 10, 40, 20, 30, 0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    write_file(tmp_path / "m.bin", [series], block_points=2)
    with MetricsFile(tmp_path / "m.bin") as f:
        window = f.read_range("m", {}, 15, 45)
    assert window.timestamps.tolist() == [40, 20, 30] and window.values.tolist() == [3.0, 4.0, 5.0]


def test_unknown_series_is_a_key_error(small_file):
    with MetricsFile(small_file[0]) as f, pytest.raises(KeyError):
        f.read_series("nope", {})


def test_a_write_that_dies_midway_leaves_the_previous_file_intact(tmp_path):
    from lib.plumbing.atomic import atomic_write

    path = tmp_path / "m.bin"
    write_file(path, awkward_dataset())
    before = path.read_bytes()
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write(b"METRICS!half a file")
        raise RuntimeError("power cut")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.bin"]


def test_files_of_an_older_format_version_are_refused_with_a_hint(small_file, tmp_path):
    data = small_file[0].read_bytes()
    path = tmp_path / "old.bin"
    path.write_bytes(data[:8] + struct.pack("<H", 1) + data[10:])
    with pytest.raises(FormatError, match="older format \\(version 1\\).*04_custom_binary_format.py"):
        read_file(path)


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    pipe = tmp_path / "pipe.bin"
    os.mkfifo(pipe)
    with pytest.raises(FormatError, match="named pipe"):
        MetricsFile(pipe)
    with pytest.raises(FormatError, match="character device"):
        read_file("/dev/zero")


def test_phase_5_with_a_named_pipe_for_the_phase_4_file_stops_with_one_line(tmp_path):
    result = run_script("00_generate_data.py", "--output-dir", tmp_path, "--series", "2", "--points", "50", timeout=60)
    assert result.returncode == 0, result.stderr
    os.mkfifo(tmp_path / OUTPUT_FILENAMES[4])
    result = run_script("05_downsampling_storage.py", "--output-dir", tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "named pipe" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_blocks_hold_1_to_65535_points(tmp_path):
    series = Series("m", {}, [1, 2], [1.0, 2.0])
    write_file(tmp_path / "m.bin", [series], block_points=MAX_BLOCK_POINTS)
    assert read_file(tmp_path / "m.bin")[0].timestamps.tolist() == [1, 2]
    for block_points in (0, MAX_BLOCK_POINTS + 1):
        with pytest.raises(ValueError, match="block_points"):
            write_file(tmp_path / "m.bin", [series], block_points=block_points)


def test_a_block_starting_at_the_end_of_a_range_is_not_read(tmp_path):
    series = Series("m", {}, [10, 20, 30, 40], [1.0, 2.0, 3.0, 4.0])
    write_file(tmp_path / "m.bin", [series], block_points=2)  # blocks [10, 20] and [30, 40]
    with MetricsFile(tmp_path / "m.bin") as f:
        first = f.find("m").blocks[0].length
        before = f.bytes_read
        assert f.read_range("m", {}, 10, 30).timestamps.tolist() == [10, 20]
        assert f.bytes_read - before == first  # the block from 30 on is outside [10, 30)
        assert overlapping_blocks(f.find("m"), 20, 30) == [0] and overlapping_blocks(f.find("m"), 21, 31) == [1]


def test_points_surely_in_a_range_count_whole_blocks_inside_it(tmp_path):
    series = Series("m", {}, [10, 20, 30, 40], [1.0, 2.0, 3.0, 4.0])
    write_file(tmp_path / "m.bin", [series], block_points=2)
    with MetricsFile(tmp_path / "m.bin") as f:
        assert f.points_surely_in_range("m", {}, 10, 41) == 4
        assert f.points_surely_in_range("m", {}, 10, 40) == 2  # 40 is outside [10, 40)
        assert f.points_surely_in_range("m", {}, 11, 41) == 2  # 10 is outside [11, 41)


@pytest.mark.parametrize("small", [False, True])  # small slices: a group per block
def test_a_block_whose_timestamps_miss_its_index_time_range_is_refused(small):
    def place(low, high):
        return BlockEntry(offset=0, length=0, points=0, min_timestamp=low, max_timestamp=high)

    decoded = [(np.array([5, 3, 9]), None), (np.array([], dtype=np.int64), None), (np.array([-1, 2]), None)]
    names = ["block a", "block b", "block c"]
    with small_slices(2) if small else contextlib.nullcontext():
        check_time_ranges(decoded, [place(3, 9), place(0, -1), place(-1, 2)], names)
        for wrong in ([place(3, 8), place(0, -1), place(-1, 2)], [place(3, 9), place(0, -1), place(0, 2)]):
            with pytest.raises(FormatError, match="block [ac]: decoded timestamps do not match"):
                check_time_ranges(decoded, wrong, names)
