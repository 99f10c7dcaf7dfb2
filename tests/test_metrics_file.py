"""The METRICS! file: exact round trips, random access that touches only what it needs, and damage
that always ends in FormatError (or, where nothing read was damaged, exactly the original data)."""
import os
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.storage.metrics_file import (
    BLOCK_HEADER, CRC, FORMAT_VERSION, HEADER, MAGIC, MetricsFile, decode_block, encode_block,
    pack_index_section, read_file, unpack_index_section, write_file,
)
from lib.data.generator import generate_dataset
from lib.data.dataset import Series, assert_identical, first_difference
from lib.errors import FormatError
from lib.runner.phases import OUTPUT_FILENAMES
from tests.conftest import awkward_dataset, run_script
from tests.test_dataset import datasets


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    series_list = generate_dataset(6, 3_000, seed=3)
    path = tmp_path_factory.mktemp("bf") / "m.bin"
    write_file(path, series_list, block_points=100)
    return path, series_list


def test_header_starts_with_magic_and_version(small_file):
    path, _ = small_file
    magic, version, block_points, index_length, data_offset, data_length = HEADER.unpack(path.read_bytes()[:HEADER.size])
    assert (magic, version, block_points) == (b"METRICS!", 2, 100)
    assert data_offset == HEADER.size + index_length + 4
    assert data_offset + data_length == path.stat().st_size


def test_hand_built_file_with_one_empty_series_is_read(tmp_path):
    # A file written byte by byte from the documented layout: strings "up", "host", "a";
    # one series up{host="a"} with no points and no blocks.
    index = (struct.pack("<I", 3) + b"".join(struct.pack("<I", len(s)) + s for s in (b"up", b"host", b"a"))
             + struct.pack("<I", 1) + struct.pack("<IH", 0, 1) + struct.pack("<II", 1, 2)
             + struct.pack("<QqqI", 0, 0, -1, 0))
    section = pack_index_section(index)
    header = MAGIC + struct.pack("<HHIQQ", FORMAT_VERSION, 0, len(section), 32 + len(section) + 4, 0)
    path = tmp_path / "hand.bin"
    path.write_bytes(header + section + struct.pack("<I", zlib.crc32(header + section)))
    assert_identical([Series("up", {"host": "a"}, [], [])], read_file(path))


@settings(max_examples=40, deadline=None)
@given(datasets(max_points=40), st.integers(1, 12), st.booleans(), st.booleans())
def test_any_dataset_round_trips_for_any_block_size_and_codec_setting(tmp_path_factory, series_list, block_points,
                                                                       choose_codecs, entropy):
    path = tmp_path_factory.mktemp("bf") / "m.bin"
    write_file(path, series_list, block_points, choose_codecs=choose_codecs, entropy=entropy)
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
        assert f.bytes_read == f.data_offset  # header, index and its CRC: nothing else


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


def outcome(path, original):
    """'error' if reading raises FormatError, 'same' if it returns the original data exactly."""
    try:
        restored = read_file(path)
    except FormatError:
        return "error"
    difference = first_difference(original, restored)
    assert difference is None, f"damage went unnoticed: {difference}"
    return "same"


def test_corruption_sweep_every_case_raises_or_returns_the_original(tmp_path, small_file):
    source, original = small_file
    data = source.read_bytes()
    path = tmp_path / "damaged.bin"
    rng = np.random.default_rng(0)
    cases = 0
    positions = sorted(set(range(0, 300)) | set(rng.integers(0, len(data), 400).tolist()))
    for position in positions:  # single-byte flips everywhere, densest in header and index
        for mask in (0x01, 0x80, 0xFF):
            damaged = bytearray(data)
            damaged[position] ^= mask
            path.write_bytes(damaged)
            assert outcome(path, original) == "error"
            cases += 1
    for _ in range(100):  # a random run of bits set to random values
        start = int(rng.integers(0, len(data) - 8))
        damaged = bytearray(data)
        damaged[start:start + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
        path.write_bytes(damaged)
        outcome(path, original)
        cases += 1
    for length in sorted(set(range(0, 200)) | set(rng.integers(0, len(data), 200).tolist())):
        path.write_bytes(data[:length])
        assert outcome(path, original) == "error"
        cases += 1
    path.write_bytes(data + b"\x00")
    assert outcome(path, original) == "error"
    assert cases > 2000


@pytest.mark.parametrize("patch,message", [
    (lambda d: b"METRICS?" + d[8:], "not a METRICS! file"),
    (lambda d: d[:8] + struct.pack("<H", 99) + d[10:], "version 99"),
])
def test_wrong_magic_and_version_are_named(small_file, tmp_path, patch, message):
    path = tmp_path / "m.bin"
    path.write_bytes(patch(small_file[0].read_bytes()))
    with pytest.raises(FormatError, match=message):
        read_file(path)


def rewrite_index(data, edit):
    """Apply `edit` to the index and fix the header/index CRC, as a careless or hostile writer might."""
    magic, version, block_points, index_length, data_offset, data_length = HEADER.unpack_from(data)
    index = bytearray(unpack_index_section(data[HEADER.size:HEADER.size + index_length], "test"))
    edit(index)
    section = pack_index_section(bytes(index))
    header = HEADER.pack(magic, version, block_points, len(section), HEADER.size + len(section) + CRC.size, data_length)
    return header + section + CRC.pack(zlib.crc32(section, zlib.crc32(header))) + data[data_offset:]


def test_index_with_valid_crc_but_impossible_offsets_or_counts_is_refused(tmp_path):
    series = Series("m", {}, np.arange(10, dtype=np.int64), np.arange(10, dtype=np.float64))
    write_file(tmp_path / "m.bin", [series], block_points=5)
    data = (tmp_path / "m.bin").read_bytes()
    # index: u32 1, u32 1, b"m", u32 1 (series count), u32 0, u16 0, then u64 points, i64, i64, u32 blocks
    series_fixed = 4 + 4 + 1 + 4 + 4 + 2
    first_block = series_fixed + 8 + 8 + 8 + 4
    edits = {
        "point count": lambda ix: ix.__setitem__(slice(series_fixed, series_fixed + 8), struct.pack("<Q", 2**40)),
        "block offset": lambda ix: ix.__setitem__(slice(first_block, first_block + 8), struct.pack("<Q", 2**40)),
        "block length": lambda ix: ix.__setitem__(slice(first_block + 8, first_block + 12), struct.pack("<I", 2**31)),
        "string count": lambda ix: ix.__setitem__(slice(0, 4), struct.pack("<I", 2**31)),
        "string id": lambda ix: ix.__setitem__(slice(13, 17), struct.pack("<I", 7)),
    }
    for name, edit in edits.items():
        (tmp_path / "bad.bin").write_bytes(rewrite_index(data, edit))
        with pytest.raises(FormatError):
            read_file(tmp_path / "bad.bin")


def test_a_label_key_named_twice_is_refused_not_merged(tmp_path):
    series = Series("m", {"a": "x", "b": "y"}, np.arange(3, dtype=np.int64), np.zeros(3))
    write_file(tmp_path / "m.bin", [series])
    data = (tmp_path / "m.bin").read_bytes()
    # strings m, a, x, b, y (ids 0..4): u32 count + 5 * (u32 length + 1 byte) = 29 bytes; then u32
    # series count, u32 name id, u16 label count: the second pair's key id starts at byte 47
    second_key = 29 + 4 + 4 + 2 + 8
    bad = rewrite_index(data, lambda ix: ix.__setitem__(slice(second_key, second_key + 4), struct.pack("<I", 1)))
    (tmp_path / "bad.bin").write_bytes(bad)
    with pytest.raises(FormatError, match="label key twice"):
        read_file(tmp_path / "bad.bin")


def test_block_points_cannot_exceed_what_its_bytes_can_hold(tmp_path):
    series = Series("m", {}, np.arange(10, dtype=np.int64), np.zeros(10))
    write_file(tmp_path / "m.bin", [series], block_points=10)
    data = (tmp_path / "m.bin").read_bytes()
    first_block = 4 + 4 + 1 + 4 + 4 + 2 + 8 + 8 + 8 + 4
    bad = rewrite_index(data, lambda ix: ix.__setitem__(slice(first_block + 12, first_block + 16), struct.pack("<I", 10**9)))
    (tmp_path / "bad.bin").write_bytes(bad)
    with pytest.raises(FormatError, match="at most 10|add up"):
        read_file(tmp_path / "bad.bin")


def test_block_decodes_on_its_own_and_names_damage():
    block = encode_block(np.array([1, 2, 3], dtype=np.int64), np.array([1.0, 1.0, 2.0]))
    timestamps, values = decode_block(block)
    assert timestamps.tolist() == [1, 2, 3] and values.tolist() == [1.0, 1.0, 2.0]
    count, *_ = BLOCK_HEADER.unpack_from(block)
    assert count == 3
    with pytest.raises(FormatError, match="checksum"):
        decode_block(block[:5] + bytes([block[5] ^ 4]) + block[6:], "series x, block 0")
    with pytest.raises(FormatError, match="too short"):
        decode_block(block[:3])


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


@pytest.mark.parametrize("name_ids,message", [((0, 0), "repeated"), ((1, 0), "out of order")])
def test_index_with_repeated_or_unordered_series_is_refused(tmp_path, name_ids, message):
    write_file(tmp_path / "m.bin", [Series("a", {}, [1], [1.0]), Series("b", {}, [2], [2.0])])
    data = (tmp_path / "m.bin").read_bytes()
    # index: u32 2, (u32 1, "a"), (u32 1, "b"), u32 2 series; each series is 4+2+28 bytes + one 32-byte block entry
    first, second = 4 + 5 + 5 + 4, 4 + 5 + 5 + 4 + 66

    def rename(index):
        index[first:first + 4] = struct.pack("<I", name_ids[0])
        index[second:second + 4] = struct.pack("<I", name_ids[1])

    (tmp_path / "bad.bin").write_bytes(rewrite_index(data, rename))
    with pytest.raises(FormatError, match=message):
        read_file(tmp_path / "bad.bin")


def test_index_section_refuses_bombs_and_garbage():
    section = pack_index_section(b"\x00" * 5000)
    assert unpack_index_section(section, "x") == b"\x00" * 5000
    inflated_claim = struct.pack("<I", 2**31) + section[4:]
    for bad in (b"", b"\x01", inflated_claim, section[:-1], section + b"\x00", section[:4] + b"\xff" * 20):
        with pytest.raises(FormatError):
            unpack_index_section(bad, "x")


def test_block_point_count_disagreeing_with_a_valid_index_is_refused(tmp_path):
    series = Series("m", {}, np.arange(10, dtype=np.int64), np.arange(10, dtype=np.float64))
    write_file(tmp_path / "m.bin", [series], block_points=6)  # blocks of 6 and 4 points
    data = (tmp_path / "m.bin").read_bytes()
    first_block = 4 + 4 + 1 + 4 + 4 + 2 + 8 + 8 + 8 + 4
    second_block = first_block + 32

    def five_and_five(index):  # still adds up to 10, each within block_points, CRC made valid
        index[first_block + 12:first_block + 16] = struct.pack("<I", 5)
        index[second_block + 12:second_block + 16] = struct.pack("<I", 5)

    (tmp_path / "bad.bin").write_bytes(rewrite_index(data, five_and_five))
    with MetricsFile(tmp_path / "bad.bin") as metrics_file:  # the index itself is consistent
        assert [b.points for b in metrics_file.series[0].blocks] == [5, 5]
    with pytest.raises(FormatError, match="holds 6 points, the index says 5"):
        read_file(tmp_path / "bad.bin")


def test_files_of_an_older_format_version_are_refused_with_a_hint(small_file, tmp_path):
    data = small_file[0].read_bytes()
    path = tmp_path / "old.bin"
    path.write_bytes(data[:8] + struct.pack("<H", FORMAT_VERSION - 1) + data[10:])
    with pytest.raises(FormatError, match=f"older format \\(version {FORMAT_VERSION - 1}\\).*04_custom_binary_format.py"):
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
