"""Damage to a METRICS! file always ends in FormatError naming what is wrong, or, where nothing read
was damaged, in exactly the original data: never an IndexError, a hang or a silently different
result. Byte flips, truncation, and indexes with a valid CRC but impossible contents."""
import struct
import zlib

import numpy as np
import pytest

from lib.data.dataset import Series, first_difference
from lib.errors import FormatError
from lib.storage.metrics_file import (
    BLOCK_HEADER, CRC, HEADER, MetricsFile, decode_block, encode_block, pack_index_section, read_file,
    unpack_index_section, write_file,
)


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


@pytest.mark.parametrize("blocks_read", ["whole file", "one series"])
def test_a_damaged_block_is_named_by_series_and_number(tmp_path, blocks_read):
    series = [Series("cpu", {"h": "a"}, np.arange(50, dtype=np.int64) * 10**9, np.arange(50) * 0.5)]
    write_file(tmp_path / "m.bin", series, block_points=10)
    damaged = bytearray((tmp_path / "m.bin").read_bytes())
    damaged[-3] ^= 0xFF  # inside the last block's CRC: the fifth block, number 4
    (tmp_path / "bad.bin").write_bytes(damaged)
    with pytest.raises(FormatError, match=r'series cpu\{h="a"\}, block 4: checksum mismatch'):
        if blocks_read == "whole file":
            read_file(tmp_path / "bad.bin")
        else:
            with MetricsFile(tmp_path / "bad.bin") as f:
                f.read_series("cpu", {"h": "a"})


def test_a_string_id_one_past_the_dictionary_is_refused(tmp_path):
    series = Series("m", {"a": "x"}, np.arange(3, dtype=np.int64), np.zeros(3))
    write_file(tmp_path / "m.bin", [series])
    data = (tmp_path / "m.bin").read_bytes()
    # strings m, a, x (ids 0..2): u32 count + 3 * (u32 length + 1 byte) = 19 bytes; then u32 series
    # count, u32 name id (at 23), u16 label count, the label's key id (at 29) and value id (at 33).
    for at in (23, 29, 33):
        (tmp_path / "bad.bin").write_bytes(rewrite_index(data, lambda ix: ix.__setitem__(slice(at, at + 4),
                                                                                         struct.pack("<I", 3))))
        with pytest.raises(FormatError, match="string id 3 is not in the dictionary"):
            read_file(tmp_path / "bad.bin")
        (tmp_path / "ok.bin").write_bytes(rewrite_index(data, lambda ix: ix.__setitem__(slice(at, at + 4),
                                                                                        struct.pack("<I", 2))))
        with MetricsFile(tmp_path / "ok.bin") as f:  # id 2, the last string: read
            assert len(f.series) == 1


def test_a_third_series_out_of_order_is_refused(tmp_path):
    write_file(tmp_path / "m.bin", [Series(name, {}, [1], [1.0]) for name in "abc"])
    data = (tmp_path / "m.bin").read_bytes()
    # strings a, b, c: 4 + 3 * 5 = 19 bytes, u32 series count; each series 4 + 2 + 28 + 32 = 66 bytes.
    second, third = 19 + 4 + 66, 19 + 4 + 2 * 66

    def swap_last_two(index):
        index[second:second + 4] = struct.pack("<I", 2)  # a, c, b: b is after a but before c
        index[third:third + 4] = struct.pack("<I", 1)

    (tmp_path / "bad.bin").write_bytes(rewrite_index(data, swap_last_two))
    with pytest.raises(FormatError, match="out of order"):
        read_file(tmp_path / "bad.bin")
