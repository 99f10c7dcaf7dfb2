"""Compatibility: files and streams written by an earlier build still read back bit for bit.

The golden files in tests/golden/ were written once by tests/golden/make_golden.py and committed;
these tests only read them (see tests/golden/README.md). A change to the format that breaks old
files fails here, and so does a codec tag added without a golden stream.
"""
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from lib.codecs.byte_planes import DEFLATE, LZMA1, NONE
# The code under test, imported in one place: if the codec registry moves within lib/codecs/,
# retarget these lines only.
from lib.codecs.registry import (
    TIMESTAMP_CODECS, TIMESTAMP_SHARED, VALUE_CODECS, decode_timestamps_tagged, decode_values_tagged,
)
from lib.codecs.shared_timestamps import SharedReference
from lib.codecs.stages import STAGES
from lib.codecs.registry import CODEC_MASK, STAGE_MASK
from lib.data.dataset import Series
from lib.errors import FormatError
from lib.storage.file_layout import FORMAT_VERSION
from lib.storage.metrics_file import MetricsFile, decode_block, encode_block, read_file
from lib.storage.streaming_writer import write_file
from tests.golden.make_golden import encode_stream

GOLDEN = Path(__file__).resolve().parent / "golden"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())
DATASET = json.loads((GOLDEN / "dataset.json").read_text())["series"]
STREAMS = MANIFEST["streams"]
FILES = MANIFEST["files"]
VERSIONS = sorted({f["version"] for f in FILES.values()})

# The documented layouts, spelled out here rather than imported, so that a change to the code's
# structs cannot silently change what these tests expect (docs/format.md, "File layout").
HEADER_LAYOUT = "<8sHHI"
FOOTER_LAYOUT = "<QII8s"
HEADER_LAYOUT_V2 = "<8sHHIQQ"
BLOCK_HEADER_LAYOUT = "<IBBI"


def expected_series(version):
    """The dataset's series that files of `version` hold (series added later are not in older files)."""
    return {(s["name"], tuple(sorted(s["labels"].items()))): s for s in DATASET if s["since"] <= version}


def expected_column(series_name, column):
    """One column of the committed dataset: int64 timestamps, or values as uint64 bit patterns."""
    (entry,) = [s for s in DATASET if s["name"] == series_name]
    if column == "timestamps":
        return np.array(entry["timestamps"], dtype=np.int64)
    return np.array([int(v, 16) for v in entry["values"]], dtype=np.uint64)


def sections(data):
    """(version, block_points, data section, index section) of a file, by the documented layout."""
    magic, version = struct.unpack_from("<8sH", data)
    assert magic == b"METRICS!"
    if version == 2:
        _, _, block_points, index_length, data_offset, data_length = struct.unpack_from(HEADER_LAYOUT_V2, data)
        return version, block_points, data[data_offset:data_offset + data_length], data[32:32 + index_length]
    _, _, block_points, _ = struct.unpack_from(HEADER_LAYOUT, data)
    index_offset, index_length, _, _ = struct.unpack_from(FOOTER_LAYOUT, data, len(data) - 24)
    return version, block_points, data[16:index_offset], data[index_offset:index_offset + index_length]


def inflated_index(data):
    section = sections(data)[3]
    (length,) = struct.unpack_from("<I", section)
    index = zlib.decompress(section[4:], wbits=-15)
    assert len(index) == length
    return index


def block_tags(path):
    """{(timestamp tag, value tag)} of every block, read by hand from the documented layout."""
    blocks = sections(path.read_bytes())[2]
    tags = set()
    with MetricsFile(path) as f:
        for entry in f.series:
            for block in entry.blocks:
                _, timestamp_tag, value_tag, _ = struct.unpack_from(BLOCK_HEADER_LAYOUT, blocks, block.offset)
                tags.add((timestamp_tag, value_tag))
    return tags


# The METRICS! files ------------------------------------------------------------------------------


def test_the_golden_dataset_is_what_the_folder_promises():
    names = {s["name"] for s in DATASET}
    assert {"flat", "steps", "cpu", "share", "noise", "wide", "one", "two", "empty", "rate", "volts"} <= names
    assert {0, 1, 2} <= {len(s["timestamps"]) for s in DATASET}
    patterns = {v for s in DATASET for v in s["values"]}
    assert {"7ff8000000000001", "8000000000000000", "0000000000000001", "7ff0000000000000"} <= patterns
    timestamps = [t for s in DATASET for t in s["timestamps"]]
    assert min(timestamps) == -(2**63) and max(timestamps) == 2**63 - 1


def test_there_are_golden_files_of_every_version_read():
    assert VERSIONS == [2, 3, FORMAT_VERSION]
    for version in VERSIONS:
        assert {name.split("_", 2)[2] for name, f in FILES.items() if f["version"] == version} == {
            "default.bin", "gorilla.bin", "entropy.bin", "entropy_lzma.bin"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_golden_file_decodes_to_the_committed_dataset(name):
    actual = read_file(GOLDEN / name)
    expected = expected_series(FILES[name]["version"])
    assert [s.key for s in actual] == sorted(expected)
    for s in actual:
        entry = expected[s.key]
        assert s.timestamps.tolist() == entry["timestamps"], s.display_name()
        assert [f"{int(p):016x}" for p in s.values.view(np.uint64)] == entry["values"], s.display_name()


@pytest.mark.parametrize("name", sorted(n for n, f in FILES.items() if f["version"] == 2))
def test_golden_version_2_file_header_reads_by_hand(name):
    data = (GOLDEN / name).read_bytes()
    magic, version, block_points, index_length, data_offset, data_length = struct.unpack_from(HEADER_LAYOUT_V2, data)
    assert (magic, version, block_points) == (b"METRICS!", 2, MANIFEST["block_points"])
    assert data_offset == 32 + index_length + 4 and data_offset + data_length == len(data)
    (stored_crc,) = struct.unpack_from("<I", data, 32 + index_length)
    assert stored_crc == zlib.crc32(data[:32 + index_length])
    (first_block_points, _, _, timestamp_length) = struct.unpack_from(BLOCK_HEADER_LAYOUT, data, data_offset)
    assert 1 <= first_block_points <= block_points and timestamp_length < data_length


@pytest.mark.parametrize("name", sorted(n for n, f in FILES.items() if f["version"] >= 3))
def test_golden_file_header_and_footer_of_versions_3_and_later_read_by_hand(name):
    data = (GOLDEN / name).read_bytes()
    assert struct.unpack_from(HEADER_LAYOUT, data) == (b"METRICS!", FILES[name]["version"], MANIFEST["block_points"], 0)
    index_offset, index_length, stored_crc, magic = struct.unpack_from(FOOTER_LAYOUT, data, len(data) - 24)
    assert magic == b"METRICS!" and index_offset + index_length + 24 == len(data)
    assert stored_crc == zlib.crc32(data[:16] + data[index_offset:index_offset + index_length])
    (first_block_points, _, _, timestamp_length) = struct.unpack_from(BLOCK_HEADER_LAYOUT, data, 16)
    assert 1 <= first_block_points <= MANIFEST["block_points"] and timestamp_length < index_offset - 16


@pytest.mark.parametrize("name", sorted(FILES))
def test_golden_file_holds_the_block_tags_its_manifest_lists(name):
    assert block_tags(GOLDEN / name) == {tuple(pair) for pair in FILES[name]["block_tags"]}


# The codec tags each version assigned (docs/format.md, "Versions and compatibility"), spelled out.
VALUE_TAGS_ADDED = {2: set(range(1, 10)), 3: set(), 4: {10, 11}}
TIMESTAMP_TAGS_ADDED = {2: {1, 2, 3}, 3: set(), 4: {4}}


def tags_of_version(added, version):
    return set().union(*(tags for since, tags in added.items() if since <= version))


def test_the_tags_each_version_added_are_the_registry():
    assert tags_of_version(VALUE_TAGS_ADDED, FORMAT_VERSION) == set(VALUE_CODECS)
    assert tags_of_version(TIMESTAMP_TAGS_ADDED, FORMAT_VERSION) == set(TIMESTAMP_CODECS)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_golden_files_together_use_every_codec_tag_and_stage(version):
    tags = set().union(*(block_tags(GOLDEN / name) for name, f in FILES.items() if f["version"] == version))
    timestamp_tags = {t for t, _ in tags}
    value_tags = {v for _, v in tags}
    assert {t & CODEC_MASK for t in timestamp_tags} == tags_of_version(TIMESTAMP_TAGS_ADDED, version)
    assert {v & CODEC_MASK for v in value_tags} == tags_of_version(VALUE_TAGS_ADDED, version)
    assert {t & STAGE_MASK for t in timestamp_tags} == {0, *STAGES}
    assert {v & STAGE_MASK for v in value_tags} == {0, *STAGES}


def read_index_v2_by_hand(index):
    """[(name, labels, points, min, max, [(offset, length, points, min, max)])] of a version-2
    index, following only docs/format.md ("Version-2 index"), none of the code's structs."""
    position = 0

    def take(layout):
        nonlocal position
        fields = struct.unpack_from(layout, index, position)
        position += struct.calcsize(layout)
        return fields

    (string_count,) = take("<I")
    strings = []
    for _ in range(string_count):
        (length,) = take("<I")
        strings.append(index[position:position + length].decode("utf-8"))
        position += length
    (series_count,) = take("<I")
    series = []
    for _ in range(series_count):
        (name_id,) = take("<I")
        (label_count,) = take("<H")
        labels = dict((strings[k], strings[v]) for k, v in (take("<II") for _ in range(label_count)))
        points, low, high, block_count = take("<QqqI")
        series.append((strings[name_id], labels, points, low, high, [take("<QIIqq") for _ in range(block_count)]))
    assert position == len(index)
    return series


def read_index_v3_by_hand(index):
    """The same list from a version-3 index, following only docs/format.md ("Index section"):
    columns of LEB128 varints, decoded one byte at a time."""
    position = 0

    def varint():
        nonlocal position
        value = shift = 0
        while True:
            byte = index[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    def column(count):
        return [varint() for _ in range(count)]

    def signed(u):
        return (u >> 1) ^ -(u & 1)

    def int64(u):
        u %= 2**64
        return u - 2**64 if u >= 2**63 else u

    lengths = column(varint())
    strings = []
    for length in lengths:
        strings.append(index[position:position + length].decode("utf-8"))
        position += length
    count = varint()
    names, label_counts = column(count), column(count)
    keys, values = column(sum(label_counts)), column(sum(label_counts))
    block_counts = column(count)
    gaps, block_lengths, points, steps, spans = (column(sum(block_counts)) for _ in range(5))
    assert position == len(index)
    blocks, end, previous_max = [], 0, 0
    for gap, length, block_points, step, span in zip(gaps, block_lengths, points, steps, spans):
        offset, low = end + signed(gap), int64(previous_max + signed(step))
        high = int64(low + span)
        blocks.append((offset, length, block_points, low, high))
        end, previous_max = offset + length, high
    series, label_at, block_at = [], 0, 0
    for name, label_count, block_count in zip(names, label_counts, block_counts):
        pairs = range(label_at, label_at + label_count)
        mine = blocks[block_at:block_at + block_count]
        low, high = (min(b[3] for b in mine), max(b[4] for b in mine)) if mine else (0, -1)
        series.append((strings[name], {strings[keys[i]]: strings[values[i]] for i in pairs},
                       sum(b[2] for b in mine), low, high, mine))
        label_at, block_at = label_at + label_count, block_at + block_count
    return series


def read_index_by_hand(data):
    index = inflated_index(data)
    return read_index_v2_by_hand(index) if sections(data)[0] == 2 else read_index_v3_by_hand(index)


@pytest.mark.parametrize("name", sorted(FILES))
def test_golden_file_index_and_blocks_read_by_hand(name):
    data = (GOLDEN / name).read_bytes()
    _, block_points, blocks, _ = sections(data)
    series = read_index_by_hand(data)
    expected = expected_series(FILES[name]["version"])
    assert [(n, tuple(sorted(labels.items()))) for n, labels, *_ in series] == sorted(expected)
    next_offset = 0
    for name_, labels, points, low, high, entries in series:
        timestamps = expected[(name_, tuple(sorted(labels.items())))]["timestamps"]
        assert points == len(timestamps) == sum(b[2] for b in entries)
        assert (low, high) == ((min(timestamps), max(timestamps)) if timestamps else (0, -1))
        for offset, length, block_count, block_low, block_high in entries:
            assert offset == next_offset and 1 <= block_count <= block_points
            block = blocks[offset:offset + length]
            assert struct.unpack_from("<I", block)[0] == block_count
            assert zlib.crc32(block[:-4]) == struct.unpack_from("<I", block, length - 4)[0]
            next_offset += length
    assert next_offset == len(blocks)


def dataset_series():
    return [Series(s["name"], s["labels"], np.array(s["timestamps"], dtype=np.int64),
                   np.array([int(v, 16) for v in s["values"]], dtype=np.uint64).view(np.float64)) for s in DATASET]


# Files of older versions were written by the encoder of their day, whose choices may differ.
DETERMINISTIC = sorted(n for n, f in FILES.items() if f["deterministic"] and f["version"] == FORMAT_VERSION)


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_writing_the_dataset_again_gives_the_same_blocks_and_index(name, tmp_path):
    """The current version's files again byte for byte (but the deflated index, which depends on
    the zlib build)."""
    options = FILES[name]
    path = tmp_path / name
    write_file(path, dataset_series(), MANIFEST["block_points"], options["choose_codecs"], options["exhaustive"])
    golden, fresh = (GOLDEN / name).read_bytes(), path.read_bytes()
    assert sections(fresh)[1:3] == sections(golden)[1:3]
    assert read_index_by_hand(fresh) == read_index_by_hand(golden)
    assert fresh[:16] == golden[:16] and inflated_index(fresh) == inflated_index(golden)


def test_the_worked_block_of_the_metrics_file_docstring():
    block = bytes.fromhex("01000000 0101 08000000 17979CFE362A0000 3FF8000000000000 14E9F56C")
    assert zlib.crc32(block[:-4]).to_bytes(4, "little") == block[-4:]
    assert encode_block(np.array([1_700_000_000 * 10**9]), np.array([1.5]), choose_codecs=False) == block
    timestamps, values = decode_block(block)
    assert timestamps.tolist() == [1_700_000_000 * 10**9] and values.tolist() == [1.5]


# Version refusal -----------------------------------------------------------------------------------


def test_version_1_file_is_refused_with_a_message_to_rewrite_it():
    path = GOLDEN / MANIFEST["version_1_file"]
    assert struct.unpack_from(HEADER_LAYOUT_V2, path.read_bytes())[:2] == (b"METRICS!", 1)
    with pytest.raises(FormatError, match=r"older format \(version 1\).*reads versions 2 to 4.*04_custom_binary_format\.py"):
        MetricsFile(path)


@pytest.mark.parametrize("version", [0, FORMAT_VERSION + 1, 0xFFFF])
def test_other_versions_are_refused(version, tmp_path):
    data = bytearray((GOLDEN / f"metrics_v{FORMAT_VERSION}_default.bin").read_bytes())
    struct.pack_into("<H", data, 8, version)
    path = tmp_path / "other_version.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=f"format version {version} is not supported"):
        MetricsFile(path)


def test_the_current_version_is_the_newest_the_golden_files_hold():
    assert FORMAT_VERSION == 4 == max(VERSIONS)


# Streams, one per codec tag -------------------------------------------------------------------------


def decode(stream, blob, count):
    decoder = decode_values_tagged if stream["column"] == "values" else decode_timestamps_tagged
    return decoder(stream["tag"], blob, count)


def is_shared(stream):
    return stream["column"] == "timestamps" and stream["tag"] == TIMESTAMP_SHARED


def test_the_golden_shared_stream_names_its_block():
    (stream,) = [s for s in STREAMS if is_shared(s)]
    blob = (GOLDEN / stream["file"]).read_bytes()
    assert blob == bytes([0xAC, 0x02])  # 300 as a varint: 0x2C | 0x80, then 300 >> 7 = 2
    assert decode(stream, blob, 24) == SharedReference(300, 24) and stream["options"] == {"block": 300}


def as_comparable(column, decoded):
    return decoded.view(np.uint64) if column == "values" else decoded


COLUMN_STREAMS = [s for s in STREAMS if not is_shared(s)]  # a shared stream holds a block number


@pytest.mark.parametrize("stream", COLUMN_STREAMS, ids=[s["file"] for s in COLUMN_STREAMS])
def test_golden_stream_decodes_to_the_committed_column(stream):
    expected = expected_column(stream["series"], stream["column"])
    decoded = decode(stream, (GOLDEN / stream["file"]).read_bytes(), expected.size)
    assert as_comparable(stream["column"], decoded).tolist() == expected.tolist()


@pytest.mark.parametrize("stream", STREAMS, ids=[s["file"] for s in STREAMS])
def test_truncated_golden_stream_is_refused(stream):
    blob = (GOLDEN / stream["file"]).read_bytes()
    with pytest.raises(FormatError):
        decode(stream, blob[:-1], len(expected_column(stream["series"], stream["column"])))


def test_every_registry_tag_has_a_golden_stream():
    for column, registry in (("values", VALUE_CODECS), ("timestamps", TIMESTAMP_CODECS)):
        tags = {s["tag"] for s in STREAMS if s["column"] == column}
        assert {t & CODEC_MASK for t in tags} == set(registry), column
        assert {t & STAGE_MASK for t in tags} == {0, *STAGES}, column


def test_every_golden_stream_is_in_the_manifest():
    listed = {s["file"] for s in STREAMS} | set(FILES) | {MANIFEST["version_1_file"]}
    assert {p.name for p in GOLDEN.glob("*.bin")} == listed


def re_encode(stream):
    """The stream today's encoder writes for the committed column, called as make_golden.py calls it."""
    column = expected_column(stream["series"], stream["column"])
    data = column.view(np.float64) if stream["column"] == "values" else column
    return encode_stream(stream["column"], stream["tag"], data, stream["options"])


DETERMINISTIC = [s for s in STREAMS if s["deterministic"]]


@pytest.mark.parametrize("stream", DETERMINISTIC, ids=[s["file"] for s in DETERMINISTIC])
def test_re_encoding_gives_the_golden_bytes(stream):
    assert re_encode(stream) == (GOLDEN / stream["file"]).read_bytes()


def test_deterministic_streams_are_exactly_those_without_a_compressor():
    for stream in STREAMS:
        compressed = bool(stream["tag"] & STAGE_MASK) or bool(stream["options"].get("compressors"))
        assert stream["deterministic"] == (not compressed), stream["file"]
    assert len(DETERMINISTIC) >= len(VALUE_CODECS) + len(TIMESTAMP_CODECS) - 1


def stream_bytes(stem):
    (stream,) = [s for s in STREAMS if s["file"].endswith(f"_{stem}.bin")]
    return (GOLDEN / stream["file"]).read_bytes()


def after_varints(blob, offset, count):
    """Where `count` LEB128 varints starting at `offset` end (each ends at a byte below 0x80)."""
    for _ in range(count):
        while blob[offset] & 0x80:
            offset += 1
        offset += 1
    return offset


def test_golden_streams_exercise_what_their_names_say():
    adjusted = stream_bytes("decimal-bins_adjusted")
    assert adjusted[1] & 0x80 and not stream_bytes("decimal-bins")[1] & 0x80  # the ULP-adjustment flag
    assert adjusted[after_varints(adjusted, 2, 2)] > 0  # exception count X after g and zigzag(base)
    assert stream_bytes("constant") == struct.pack("<d", 42.0)
    assert [stream_bytes(s)[0] for s in ("units_grid", "units_sparse-grid_lzma", "units_deltas_deflate")] == [0, 2, 1]
    assert [stream_bytes(s)[0] for s in ("units-bins_grid", "units-bins_deltas")] == [0, 1]
    assert [stream_bytes(s)[0] for s in ("units-bins_delta", "units-bins_centered-delta", "units_delta")] == [3, 4, 3]
    # The byte-plane compressor byte follows each codec's header and the one plane stream's W and R.
    for stem, compressor in (("ordered", NONE), ("ordered_lzma", LZMA1)):
        blob = stream_bytes(stem)
        assert blob[after_varints(blob, 1, 1) + 2] == compressor, stem
    for stem, compressor in (("decimal-planes", NONE), ("decimal-planes_deflate", DEFLATE)):
        blob = stream_bytes(stem)
        assert blob[after_varints(blob, 2, 3) + 2] == compressor, stem
