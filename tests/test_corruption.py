"""Damage to a METRICS! file always ends in FormatError naming what is wrong, or, where nothing read
was damaged, in exactly the original data: never an IndexError, a hang or a silently different
result. Byte flips, truncation, and indexes with a valid CRC but impossible contents."""
import struct

import numpy as np
import pytest

from lib.codecs.registry import TIMESTAMP_SHARED
from lib.data.dataset import Series, first_difference
from lib.data.generator import generate_dataset
from lib.errors import FormatError
from lib.storage.file_layout import FOOTER, HEADER, pack_footer, pack_index_section, unpack_index_section
from lib.storage.index_section import pack_index, parse_index
from lib.storage.metrics_file import BLOCK_HEADER, MetricsFile, decode_block, encode_block, read_file
from lib.storage.streaming_writer import write_file


def outcome(path, original):
    """'error' if reading raises FormatError, 'same' if it returns the original data exactly."""
    try:
        restored = read_file(path)
    except FormatError:
        return "error"
    difference = first_difference(original, restored)
    assert difference is None, f"damage went unnoticed: {difference}"
    return "same"


@pytest.fixture(scope="module")
def shared_file(tmp_path_factory):
    """A file of series scraped together: most blocks refer to an earlier block's timestamps
    (tag 4), some through a whole-file read, some from blocks of other series."""
    timestamps = 1_700_000_000 * 10**9 + 15 * 10**9 * np.arange(90)
    series_list = [Series("up", {"pod": f"p{n}"}, timestamps, np.round(np.sin(np.arange(90) + n), 2))
                   for n in range(8)]
    path = tmp_path_factory.mktemp("shared") / "m.bin"
    write_file(path, series_list, block_points=40)
    with MetricsFile(path) as f:
        data = f._read_at(f.data_offset, f.data_length)
        tags = [data[b.offset + 4] for e in f.series for b in e.blocks]
    assert tags.count(TIMESTAMP_SHARED) == 21  # 3 blocks a series, all but the first series' refer
    return path, series_list


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    """Six generated series of about 100 points in blocks of 40: every kind of section, small enough
    that each of the sweep's cases reads the whole file quickly."""
    series_list = generate_dataset(6, 600, seed=3)
    path = tmp_path_factory.mktemp("sweep") / "m.bin"
    write_file(path, series_list, block_points=40)
    return path, series_list


@pytest.mark.parametrize("fixture", ["sweep_file", "shared_file"])
def test_corruption_sweep_every_case_raises_or_returns_the_original(tmp_path, request, fixture):
    source, original = request.getfixturevalue(fixture)
    data = source.read_bytes()
    path = tmp_path / "damaged.bin"
    rng = np.random.default_rng(0)
    cases = 0
    ends = set(range(0, 80)) | set(range(len(data) - 120, len(data)))  # header, first block; index, footer
    positions = sorted(ends | set(rng.integers(0, len(data), 200).tolist()))
    for position in positions:  # single-byte flips everywhere, densest at both ends
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
    lengths = set(range(0, 60)) | set(range(len(data) - 60, len(data))) | set(rng.integers(0, len(data), 120).tolist())
    for length in sorted(lengths):
        path.write_bytes(data[:length])
        assert outcome(path, original) == "error"
        cases += 1
    path.write_bytes(data + b"\x00")
    assert outcome(path, original) == "error"
    assert cases > 1200


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
    """Apply `edit` to the inflated index and make header, footer and CRC agree with it again, as a
    careless or hostile writer might."""
    index_offset, index_length, _, _ = FOOTER.unpack_from(data, len(data) - FOOTER.size)
    index = bytearray(unpack_index_section(data[index_offset:index_offset + index_length], "test"))
    edit(index)
    section = pack_index_section(bytes(index))
    return data[:index_offset] + section + pack_footer(data[:HEADER.size], index_offset, section)


def rewrite_entries(data, change):
    """Rewrite the index with `change(series entries)` applied: entries the writer would never make."""
    def edit(index):
        entries = parse_index(bytes(index), "test")
        change(entries)
        index[:] = pack_index(entries)
    return rewrite_index(data, edit)


def ten_points_in_two_blocks(tmp_path):
    series = Series("m", {}, np.arange(10, dtype=np.int64), np.arange(10, dtype=np.float64))
    write_file(tmp_path / "m.bin", [series], block_points=5)
    return (tmp_path / "m.bin").read_bytes()


def set_block(number, **fields):
    def change(entries):
        block = entries[0].blocks[number]
        for name, value in fields.items():
            setattr(block, name, value)
    return change


@pytest.mark.parametrize("change,message", [
    (set_block(0, offset=2**40), "runs past the data section"),
    (set_block(1, length=2**31), "runs past the data section"),
    (set_block(1, offset=0), "overlaps the block before it"),
    (set_block(1, length=1), "cover"),
    (set_block(0, points=10**9), "blocks hold at most 5"),
    (set_block(0, min_timestamp=7, max_timestamp=3), "ends before it starts"),
    (lambda entries: entries[0].blocks.pop(), "cover"),
])
def test_index_with_valid_crc_but_impossible_blocks_is_refused(tmp_path, change, message):
    (tmp_path / "bad.bin").write_bytes(rewrite_entries(ten_points_in_two_blocks(tmp_path), change))
    with pytest.raises(FormatError, match=message):
        read_file(tmp_path / "bad.bin")


@pytest.mark.parametrize("edit,message", [
    (lambda ix: ix.__setitem__(slice(0, 1), bytes([0x80, 0x80, 0x80, 0x80, 0x08])), "string lengths"),  # 2**31 strings
    (lambda ix: ix.__setitem__(4, 7), "string id 7 is not in the dictionary"),  # the name of the series
    (lambda ix: ix.__setitem__(3, 2), "index"),  # two series where one is described: the columns shift
    (lambda ix: ix.extend(b"\x00"), "unexplained bytes"),
])
def test_index_with_valid_crc_but_impossible_counts_is_refused(tmp_path, edit, message):
    # the index starts: 1 string of 1 byte, "m", 1 series, name id 0, no labels, 2 blocks, ...
    data = ten_points_in_two_blocks(tmp_path)
    (tmp_path / "bad.bin").write_bytes(rewrite_index(data, edit))
    with pytest.raises(FormatError, match=message):
        read_file(tmp_path / "bad.bin")


def test_a_label_key_named_twice_is_refused_not_merged(tmp_path):
    series = Series("m", {"a": "x", "b": "y"}, np.arange(3, dtype=np.int64), np.zeros(3))
    write_file(tmp_path / "m.bin", [series])
    data = (tmp_path / "m.bin").read_bytes()
    # strings m, a, x, b, y: their count and five lengths, 5 bytes of text (11 bytes); then the
    # series count, the name id, the label count, and the key ids 1 and 3: byte 15 is the second key
    bad = rewrite_index(data, lambda ix: ix.__setitem__(15, 1))
    (tmp_path / "bad.bin").write_bytes(bad)
    with pytest.raises(FormatError, match="label key twice"):
        read_file(tmp_path / "bad.bin")


@pytest.mark.parametrize("reserved,message", [(1, "reserved header field is 1"), (0, None)])
def test_the_reserved_header_field_must_be_zero(small_file, tmp_path, reserved, message):
    data = bytearray(small_file[0].read_bytes())
    struct.pack_into("<I", data, 12, reserved)
    data = rewrite_index(bytes(data), lambda ix: None)  # the CRC made valid again
    (tmp_path / "m.bin").write_bytes(data)
    if message is None:
        read_file(tmp_path / "m.bin")
    else:
        with pytest.raises(FormatError, match=message):
            read_file(tmp_path / "m.bin")


def test_a_file_cut_anywhere_before_its_footer_is_refused_at_once(small_file, tmp_path):
    data = small_file[0].read_bytes()
    for length in (len(data) - 1, len(data) - FOOTER.size, len(data) // 2, HEADER.size + 3):
        (tmp_path / "cut.bin").write_bytes(data[:length])
        with pytest.raises(FormatError, match="too short|no METRICS! footer"):
            MetricsFile(tmp_path / "cut.bin")


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
    # index: 2 strings of 1 byte each, "a", "b", 2 series, then the name ids at bytes 6 and 7

    def rename(index):
        index[6:8] = bytes(name_ids)

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
    # still 10 points, each block within block_points, CRC made valid
    bad = rewrite_entries(data, lambda entries: [setattr(b, "points", 5) for b in entries[0].blocks])
    (tmp_path / "bad.bin").write_bytes(bad)
    with MetricsFile(tmp_path / "bad.bin") as metrics_file:  # the index itself is consistent
        assert [b.points for b in metrics_file.series[0].blocks] == [5, 5]
    with pytest.raises(FormatError, match="holds 6 points, the index says 5"):
        read_file(tmp_path / "bad.bin")


@pytest.mark.parametrize("blocks_read", ["whole file", "one series"])
def test_a_damaged_block_is_named_by_series_and_number(tmp_path, blocks_read):
    series = [Series("cpu", {"h": "a"}, np.arange(50, dtype=np.int64) * 10**9, np.arange(50) * 0.5)]
    write_file(tmp_path / "m.bin", series, block_points=10)
    damaged = bytearray((tmp_path / "m.bin").read_bytes())
    with MetricsFile(tmp_path / "m.bin") as f:
        blocks_end = f.data_offset + f.data_length
    damaged[blocks_end - 3] ^= 0xFF  # inside the last block's CRC: the fifth block, number 4
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
    # strings m, a, x (ids 0..2): their count, three lengths and three bytes (7 bytes); then the series
    # count, the name id (at 8), the label count, the label's key id (at 10) and value id (at 11).
    for at in (8, 10, 11):
        (tmp_path / "bad.bin").write_bytes(rewrite_index(data, lambda ix: ix.__setitem__(at, 3)))
        with pytest.raises(FormatError, match="string id 3 is not in the dictionary"):
            read_file(tmp_path / "bad.bin")
        (tmp_path / "ok.bin").write_bytes(rewrite_index(data, lambda ix: ix.__setitem__(at, 2)))
        with MetricsFile(tmp_path / "ok.bin") as f:  # id 2, the last string: read
            assert len(f.series) == 1


def test_a_third_series_out_of_order_is_refused(tmp_path):
    write_file(tmp_path / "m.bin", [Series(name, {}, [1], [1.0]) for name in "abc"])
    data = (tmp_path / "m.bin").read_bytes()
    # strings a, b, c: their count, three lengths and three bytes (7 bytes), the series count, then
    # the name ids at 8, 9 and 10

    def swap_last_two(index):
        index[9:11] = bytes([2, 1])  # a, c, b: b is after a but before c

    (tmp_path / "bad.bin").write_bytes(rewrite_index(data, swap_last_two))
    with pytest.raises(FormatError, match="out of order"):
        read_file(tmp_path / "bad.bin")
