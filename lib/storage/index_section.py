"""The index of a METRICS! file: per series its name, labels and block entries, in columns of varints.

A reader loads the index once and then seeks straight to the blocks a query needs, so the index is
what a file pays per series and per block, whatever their points. With many short series (10,000
Kubernetes pods of 120 points: one block each) that cost shows: version 2 wrote each block entry as
a fixed 32-byte record (offset, length, points, first and last timestamp) beside 30 bytes of series
fields, and DEFLATE could only shave the zeros off those records. Version 3 writes the same entries
as columns, each number as a varint and, where neighbours are alike, as the difference from its
neighbour:

    block offsets   as the gap after the previous block in the index (0 when blocks follow each
                    other, as a batch write puts them), zigzagged
    first times     as zz(min - the previous block's max): one scrape interval inside a series
    last times      as max - min, the block's span, the same for every full block of a series

A column of similar small numbers is what DEFLATE compresses best: a repeated span becomes a
match of a few bits. A series' point count and time range are not stored at all: they are the sum
and the extremes of its blocks'. docs/format.md ("Index section") lists every byte; the
version-2 records are still read (`parse_index_v2`), never written.

Worked example, the index of one series up{job="a"} with two blocks of 2 and 1 points, at t = 10,
20 | 30 (ns), the blocks 40 and 36 bytes long and back to back:

    03  02 03 01  75 70 6A 6F 62 61     3 strings of 2, 3 and 1 bytes: "up", "job", "a"
    01                                   1 series
    00  01  01  02                       name "up"; 1 label; key "job"; value "a"
    02                                   2 blocks
    00 00                                offset gaps: zz(0), zz(0)
    28 24                                lengths 40, 36
    02 01                                points 2, 1
    14 14                                zz(10 - 0) = 20 and zz(30 - 20) = 20
    0A 00                                spans 20 - 10 = 10 and 30 - 30 = 0

Every count, id, offset and length is checked against what the index and the file can hold before
it is used; a damaged index raises FormatError, never an IndexError or a huge allocation.
"""
import struct
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from lib.bitstream.varint import encode_varints, read_varint_list, read_varints, zigzag_decode, zigzag_encode
from lib.data.dataset import display_name, series_key
from lib.errors import FormatError


@dataclass
class BlockEntry:
    offset: int  # from the start of the data section
    length: int
    points: int
    min_timestamp: int
    max_timestamp: int


@dataclass
class SeriesEntry:
    name: str
    labels: dict
    points: int
    min_timestamp: int
    max_timestamp: int
    blocks: list

    @cached_property
    def key(self):
        """series_key(name, labels), worked out once: the reader compares and looks up by it."""
        return series_key(self.name, self.labels)

    def __len__(self):
        return self.points  # as a Series' length: entries group like series (dataset.chunks_of_points)

    def display_name(self):
        return display_name(self.name, self.labels)


def series_entry(name, labels, blocks):
    """A SeriesEntry whose point count and time range are its blocks' (no blocks: 0 points, (0, -1))."""
    if not blocks:
        return SeriesEntry(name, labels, 0, 0, -1, blocks)
    return SeriesEntry(name, labels, sum(b.points for b in blocks), min(b.min_timestamp for b in blocks),
                       max(b.max_timestamp for b in blocks), blocks)


class StringDictionary:
    """Each distinct string once, numbered in order of first use; the index refers to the numbers."""

    def __init__(self):
        self.ids = {}

    def id_of(self, text):
        return self.ids.setdefault(text, len(self.ids))

    def pack(self):
        encoded = [text.encode("utf-8") for text in self.ids]
        return encode_varints([len(encoded)]) + encode_varints([len(e) for e in encoded]) + b"".join(encoded)


def pack_index(series):
    """The version-3 index (before DEFLATE) of SeriesEntry objects in canonical order."""
    strings = StringDictionary()
    names, label_counts, keys, values = [], [], [], []
    for s in series:
        names.append(strings.id_of(s.name))
        label_counts.append(len(s.labels))
        for key, value in sorted(s.labels.items()):
            keys.append(strings.id_of(key))
            values.append(strings.id_of(value))
    blocks = [b for s in series for b in s.blocks]
    offsets, lengths, points, mins, maxes = (np.array([getattr(b, field) for b in blocks], dtype=dtype)
                                             for field, dtype in BLOCK_COLUMNS)
    previous_ends = np.concatenate(([0], offsets[:-1] + lengths[:-1])).astype(np.int64)
    previous_maxes = np.concatenate(([0], maxes[:-1])).astype(np.int64)
    with np.errstate(over="ignore"):  # differences of int64 timestamps wrap, as the format says
        columns = [names, label_counts, keys, values, [len(s.blocks) for s in series],
                   zigzag_encode(offsets - previous_ends), lengths, points,
                   zigzag_encode(mins - previous_maxes), (maxes - mins).view(np.uint64)]
    return strings.pack() + encode_varints([len(series)]) + b"".join(
        encode_varints(np.asarray(column, dtype=np.uint64)) for column in columns)


BLOCK_COLUMNS = (("offset", np.int64), ("length", np.int64), ("points", np.int64), ("min_timestamp", np.int64),
                 ("max_timestamp", np.int64))


class VarintColumns:
    """Reads the index's varint columns in order, refusing counts the remaining bytes cannot hold."""

    def __init__(self, data, path):
        self.data = memoryview(data)
        self.position = 0
        self.path = path

    def column(self, count, what):
        try:
            values, self.position = read_varints(self.data, count, self.position)
        except FormatError as exc:
            raise FormatError(f"{self.path}: index, {what}: {exc}") from None
        return values

    def count(self, what):
        try:
            (value,), self.position = read_varint_list(self.data, 1, self.position)
        except FormatError as exc:
            raise FormatError(f"{self.path}: index, {what}: {exc}") from None
        return value

    def ids(self, count, strings, what):
        ids = self.column(count, what)
        if count and int(ids.max()) >= len(strings):
            raise FormatError(f"{self.path}: index, {what}: string id {int(ids.max())} is not in the dictionary")
        return ids.tolist()

    def strings(self):
        count = self.count("the string count")
        lengths = self.column(count, "the string lengths").tolist()
        end = self.position + sum(lengths)
        if end > len(self.data):
            raise FormatError(f"{self.path}: index ends in the middle of the strings")
        blob, strings, at = bytes(self.data[self.position:end]), [], 0
        for number, length in enumerate(lengths):
            try:
                strings.append(blob[at:at + length].decode("utf-8"))
            except UnicodeDecodeError:
                raise FormatError(f"{self.path}: string {number} is not valid UTF-8") from None
            at += length
        self.position = end
        return strings

    def finish(self):
        if self.position != len(self.data):
            raise FormatError(f"{self.path}: {len(self.data) - self.position} unexplained bytes after the index")


def parse_index(data, path):
    """The SeriesEntry list of a version-3 index (after inflating); offsets, lengths and points are
    checked against the file by `check_tiling` and the reader."""
    columns = VarintColumns(data, path)
    strings = columns.strings()
    count = columns.count("the series count")
    names = columns.ids(count, strings, "metric names")
    label_counts = columns.column(count, "label counts").tolist()
    keys = columns.ids(sum(label_counts), strings, "label keys")
    values = columns.ids(sum(label_counts), strings, "label values")
    block_counts = columns.column(count, "block counts").tolist()
    blocks = sum(block_counts)
    gaps, lengths, points, min_steps, spans = (columns.column(blocks, what) for what in BLOCK_FIELDS)
    columns.finish()
    # Each offset is the previous block's end plus its gap, each first time the previous block's last
    # time plus its step: running sums, in uint64 so that they wrap modulo 2**64 as the format says.
    offsets = np.cumsum(zigzag_decode(gaps).view(np.uint64) + shifted(lengths))
    mins = np.cumsum(zigzag_decode(min_steps).view(np.uint64) + shifted(spans))
    maxes = (mins + spans).view(np.int64)
    mins = mins.view(np.int64)
    backwards = np.flatnonzero(maxes < mins)
    if backwards.size:
        raise FormatError(f"{path}: index, block entry {int(backwards[0])}: its time range ends before it starts")
    entries = [BlockEntry(*row) for row in zip(offsets.tolist(), lengths.tolist(), points.tolist(), mins.tolist(),
                                               maxes.tolist())]
    series, label_at, block_at = [], 0, 0
    for number in range(count):
        pairs = range(label_at, label_at + label_counts[number])
        labels = {strings[keys[i]]: strings[values[i]] for i in pairs}
        if len(labels) != label_counts[number]:
            raise FormatError(f"{path}: series {number} names a label key twice")
        series.append(series_entry(strings[names[number]], labels, entries[block_at:block_at + block_counts[number]]))
        label_at += label_counts[number]
        block_at += block_counts[number]
    return series


def shifted(column):
    """The uint64 column moved one place on, 0 first: each entry's predecessor."""
    return np.concatenate((np.zeros(1, np.uint64), column[:-1])) if len(column) else column


BLOCK_FIELDS = ("block offsets", "block lengths", "block points", "block first times", "block spans")


def check_tiling(series, data_length, path):
    """Version 3's blocks must cover the data section exactly: sorted by offset, each starts where
    the one before ends, the first at 0 and the last ends at `data_length` (no gap, no overlap)."""
    blocks = [(b.offset, b.length, s, number) for s in series for number, b in enumerate(s.blocks)]
    blocks.sort(key=lambda block: block[0])
    expected = 0
    for offset, length, entry, number in blocks:
        if offset != expected:
            what = "overlaps the block before it" if offset < expected else f"leaves a gap at byte {expected}"
            raise FormatError(f"{path}: series {entry.display_name()}, block {number} at offset {offset} {what}")
        expected = offset + length
    if expected != data_length:
        raise FormatError(f"{path}: the blocks cover {expected} bytes of a {data_length}-byte data section")


# Version 2 -------------------------------------------------------------------------------------------

U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
LABEL_PAIR = struct.Struct("<II")
SERIES_FIXED = struct.Struct("<QqqI")
BLOCK_ENTRY = struct.Struct("<QIIqq")
BLOCK_ENTRY_WIDTH = len(BLOCK_COLUMNS)  # fields of one BLOCK_ENTRY record


class IndexParser:
    """Reads fixed-size fields from a version-2 index, raising FormatError instead of running off its end."""

    def __init__(self, data, path):
        self.data = data
        self.position = 0
        self.path = path

    def take(self, layout, what):
        return self.take_many(layout, 1, what)

    def take_many(self, layout, count, what):
        """`count` records of `layout` back to back, as one flat tuple of their fields."""
        size = layout.size * count
        if self.position + size > len(self.data):
            raise FormatError(f"{self.path}: index ends in the middle of {what}")
        fields = struct.unpack_from("<" + layout.format.lstrip("<") * count, self.data, self.position)
        self.position += size
        return fields

    def take_bytes(self, length, what):
        if self.position + length > len(self.data):
            raise FormatError(f"{self.path}: index ends in the middle of {what}")
        chunk = self.data[self.position:self.position + length]
        self.position += length
        return chunk


def parse_index_v2(data, path):
    """The SeriesEntry list of a version-2 index: a u32-counted string dictionary, then per series
    its name id, labels, point count, time range and fixed-width block entries."""
    parser = IndexParser(data, path)
    (string_count,) = parser.take(U32, "the string count")
    if string_count > len(parser.data):
        raise FormatError(f"{path}: string count {string_count} cannot fit in the index")
    strings = []
    for number in range(string_count):
        (length,) = parser.take(U32, f"string {number}")
        try:
            strings.append(parser.take_bytes(length, f"string {number}").decode("utf-8"))
        except UnicodeDecodeError:
            raise FormatError(f"{path}: string {number} is not valid UTF-8") from None
    (series_count,) = parser.take(U32, "the series count")
    series = []
    for number in range(series_count):
        (name_id,) = parser.take(U32, f"series {number}")
        (label_count,) = parser.take(U16, f"series {number}")
        ids = (name_id,) + parser.take_many(LABEL_PAIR, label_count, f"the labels of series {number}")
        if max(ids) >= len(strings):
            raise FormatError(f"{path}: string id {max(ids)} is not in the dictionary")
        labels = {strings[key]: strings[value] for key, value in zip(ids[1::2], ids[2::2])}
        if len(labels) != label_count:
            raise FormatError(f"{path}: series {number} names a label key twice")
        points, min_ts, max_ts, block_count = parser.take(SERIES_FIXED, f"series {number}")
        fields = parser.take_many(BLOCK_ENTRY, block_count, f"the blocks of series {number}")
        blocks = [BlockEntry(*fields[i:i + BLOCK_ENTRY_WIDTH]) for i in range(0, len(fields), BLOCK_ENTRY_WIDTH)]
        series.append(SeriesEntry(strings[name_id], labels, points, min_ts, max_ts, blocks))
    if parser.position != len(parser.data):
        raise FormatError(f"{path}: {len(parser.data) - parser.position} unexplained bytes after the index")
    return series
