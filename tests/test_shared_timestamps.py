"""Shared timestamps (timestamp tag 4): blocks referring to an earlier block's timestamps, written by
both writers, read back by every reader, and references the format forbids refused by name."""
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.codecs.registry import TIMESTAMP_SHARED, decode_timestamps_tagged
from lib.codecs.shared_timestamps import SharedReference, decode_shared, encode_shared
from lib.data.dataset import Series, assert_identical, canonical_order
from lib.errors import FormatError
from lib.storage.metrics_file import BLOCK_HEADER, MetricsFile, encode_block, read_file
from lib.storage.streaming_writer import SeenTimestamps, StreamingWriter, write_file

INT64 = np.iinfo(np.int64)
SCRAPES = 1_700_000_000 * 10**9 + 15 * 10**9 * np.arange(12)


def block_tags(path):
    """The timestamp tag of every block, in file order, read from the documented block header."""
    with MetricsFile(path) as f:
        data = f._read_at(f.data_offset, f.data_length)
        offsets = sorted(b.offset for e in f.series for b in e.blocks)
    return [data[offset + 4] for offset in offsets]


def test_the_stream_is_the_block_number_as_a_varint():
    assert encode_shared(0) == b"\x00" and encode_shared(300) == b"\xac\x02"
    assert decode_timestamps_tagged(TIMESTAMP_SHARED, b"\xac\x02", 7) == SharedReference(300, 7)
    for blob, count in ((b"", 1), (b"\x80", 1), (b"\x00\x00", 1), (b"\x00", 0)):
        with pytest.raises(FormatError):
            decode_shared(blob, count)


def test_series_of_one_scrape_loop_store_their_timestamps_once(tmp_path):
    series = [Series("up", {"pod": f"p{n}"}, SCRAPES, np.full(12, float(n))) for n in range(5)]
    usage = {}
    write_file(tmp_path / "m.bin", series, block_points=5, codec_usage=usage)
    # three blocks a series (5, 5, 2 points); the first series stores them, the other four refer
    assert block_tags(tmp_path / "m.bin")[3:] == [TIMESTAMP_SHARED] * 12
    assert (usage["timestamps"]["shared"]["blocks"], usage["timestamps"]["shared"]["bytes"]) == (12, 12)
    assert_identical(series, read_file(tmp_path / "m.bin"))
    with MetricsFile(tmp_path / "m.bin") as f:
        entry = f.find("up", {"pod": "p3"})
        f.bytes_read = 0
        assert f.read_blocks(entry, [1])[0].tolist() == SCRAPES[5:10].tolist()
        referred = next(b for b in f.series[0].blocks if b.points == 5 and b.offset != 0)
        assert f.bytes_read == entry.blocks[1].length + referred.length  # the block, then the one it names


def test_gorilla_files_never_refer_and_exhaustive_files_do(tmp_path):
    series = [Series("up", {"pod": f"p{n}"}, SCRAPES, np.zeros(12)) for n in range(3)]
    write_file(tmp_path / "g.bin", series, choose_codecs=False)
    write_file(tmp_path / "e.bin", series, exhaustive=True)
    assert TIMESTAMP_SHARED not in block_tags(tmp_path / "g.bin")
    assert block_tags(tmp_path / "e.bin")[1:] == [TIMESTAMP_SHARED] * 2
    assert_identical(series, read_file(tmp_path / "e.bin"))


def test_the_writer_keeps_its_own_copy_and_forgets_the_oldest_past_its_budget():
    seen = SeenTimestamps(budget=3 * 8 * 4)
    timestamps = np.arange(4, dtype=np.int64)
    seen.remember(timestamps, 0)
    timestamps[0] = 99  # the caller's array changes after the block is written
    assert seen.find(np.arange(4, dtype=np.int64)) == 0 and seen.find(timestamps) is None
    seen.remember(np.arange(1, 5, dtype=np.int64), 1)
    seen.remember(np.arange(2, 6, dtype=np.int64), 2)
    seen.remember(np.arange(3, 7, dtype=np.int64), 3)  # over budget: block 0's timestamps are forgotten
    assert seen.find(np.arange(4, dtype=np.int64)) is None and seen.find(np.arange(3, 7, dtype=np.int64)) == 3
    assert seen.find(np.arange(3, dtype=np.int64)) is None


timestamp_arrays = hnp.arrays(np.int64, st.integers(0, 14), elements=st.integers(INT64.min, INT64.max)
                              | st.integers(-3, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(timestamp_arrays, min_size=1, max_size=3), st.lists(st.integers(0, 2), min_size=1, max_size=7),
       st.integers(1, 6), st.integers(1, 5))
def test_both_writers_and_every_reader_round_trip_shared_timestamps(tmp_path, loops, members, block_points, chunk):
    series = canonical_order([Series("m", {"s": str(n)}, loops[loop % len(loops)],
                                     np.arange(len(loops[loop % len(loops)])) * 0.5 + n)
                              for n, loop in enumerate(members)])
    write_file(tmp_path / "batch.bin", series, block_points=block_points)
    with StreamingWriter(tmp_path / "stream.bin", block_points=block_points) as writer:
        longest = max(1, max(len(s) for s in series))  # an empty series is added once, with no points
        for start in range(0, longest, chunk):  # series interleaved, a chunk of each at a time
            for s in series:
                writer.add(s.name, s.labels, s.timestamps[start:start + chunk], s.values[start:start + chunk])
    for name in ("batch.bin", "stream.bin"):
        assert_identical(series, read_file(tmp_path / name), name)
        with MetricsFile(tmp_path / name) as f:
            for s in series:
                assert_identical([s], [f.read_series(s.name, s.labels)], name)
                entry = f.find(s.name, s.labels)
                numbers = list(range(len(entry.blocks)))[::-1]
                timestamps, _ = f.read_blocks(entry, numbers)
                expected = [t for n in numbers for t in s.timestamps[n * block_points:(n + 1) * block_points].tolist()]
                assert timestamps.tolist() == expected
                if len(s):
                    low, high = int(s.timestamps.min()), int(s.timestamps.max())
                    window = f.read_range(s.name, s.labels, low, high)
                    assert window.timestamps.tolist() == [t for t in s.timestamps.tolist() if low <= t < high]


# References the format forbids: a file with blocks 0 a (4 points), 1 b (refers to 0), 2 c (3 points),
# 3 d and 4 e (refer to 2); one reference byte rewritten and the block's CRC made valid again.


def five_blocks(tmp_path):
    early, late = SCRAPES[:4], SCRAPES[5:8]
    series = [Series("a", {}, early, np.zeros(4)), Series("b", {}, early, np.ones(4)),
              Series("c", {}, late, np.zeros(3)), Series("d", {}, late, np.ones(3)), Series("e", {}, late, np.ones(3))]
    write_file(tmp_path / "m.bin", series)
    assert [tag == TIMESTAMP_SHARED for tag in block_tags(tmp_path / "m.bin")] == [False, True, False, True, True]
    return (tmp_path / "m.bin").read_bytes()


def with_reference(data, block_number, reference):
    """The file with block `block_number`'s one-byte reference replaced by `reference`, its CRC fixed."""
    data = bytearray(data)
    offset = 16  # the blocks follow the 16-byte header
    for _ in range(block_number):
        offset += block_length(data, offset)
    length = block_length(data, offset)
    count, tag, _, timestamp_length = BLOCK_HEADER.unpack_from(data, offset)
    assert (tag, timestamp_length) == (TIMESTAMP_SHARED, 1)
    data[offset + 10] = reference
    struct.pack_into("<I", data, offset + length - 4, zlib.crc32(data[offset:offset + length - 4]))
    return bytes(data)


def block_length(data, offset):
    """A block's length, found as the end where its CRC matches (the index is not needed)."""
    for end in range(offset + 14, len(data) + 1):
        if zlib.crc32(data[offset:end - 4]) == struct.unpack_from("<I", data, end - 4)[0]:
            return end - offset
    raise AssertionError("no block ends here")


@pytest.mark.parametrize("block, reference, series, message", [
    (1, 1, "b", r"its timestamps refer to itself \(block 1 of the file\)"),
    (1, 2, "b", r"its timestamps refer to block 2 of the file, which comes after it \(block 1\)"),
    (1, 9, "b", r"its timestamps refer to block 9 of the file, which has 5 blocks"),
    (3, 0, "d", r"its 3 timestamps refer to block 0 of the file, which holds 4 points"),
    (4, 3, "e", r"its timestamps are those of .*series d\{\}, block 0, whose timestamps are themselves another block's"),
])
@pytest.mark.parametrize("reader", ["whole file", "one series"])
def test_a_forbidden_reference_is_refused_by_name(tmp_path, block, reference, series, message, reader):
    path = tmp_path / "bad.bin"
    path.write_bytes(with_reference(five_blocks(tmp_path), block, reference))
    with pytest.raises(FormatError, match=f"series {series}\\{{\\}}, block 0: {message}"):
        if reader == "whole file":
            read_file(path)
        else:
            with MetricsFile(path) as f:
                f.read_series(series)


def test_encode_block_refers_only_where_it_is_smaller():
    timestamps = SCRAPES[:1]
    block = encode_block(timestamps, np.zeros(1), shared_block=5)
    assert block[4] == TIMESTAMP_SHARED and block[10] == 5
    assert encode_block(timestamps, np.zeros(1), choose_codecs=False, shared_block=5)[4] != TIMESTAMP_SHARED
