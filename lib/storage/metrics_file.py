"""The METRICS! file: compressed series in one self-describing file with an index for random access.

Phase 3 showed how small the columns get; a database also needs to find one series without reading
the others, read one hour without decoding every block of a day (when blocks are small enough
to cut the day: phase 4 shows both sizes), and refuse damaged bytes instead of returning
wrong numbers. So the file keeps an index beside the data: per series its name, labels and the
offset, point count and time range of each of its blocks. A reader reads the small index, then
seeks straight to the blocks it needs. Each series is cut into blocks of at most `block_points`
points (Prometheus cuts chunks at 120 samples; bigger blocks compress slightly better, smaller ones
make time-range reads cheaper; the default is 8,192), and every block decodes on its own, but for
one kind: series scraped together share their timestamps, and a block may name an earlier block
of the file whose timestamps are its own (lib/codecs/shared_timestamps.py); the reader then reads
that block too, and refuses a reference the format forbids.

The file (format version 4) is a 16-byte header, the blocks back to back, the index and a footer
saying where the index starts (lib/storage/file_layout.py; the index's columns:
lib/storage/index_section.py). A block is its point count, two codec tags (timestamps, values), the
two streams and its own CRC32. This module encodes and decodes blocks and reads files of versions
2 to 4; lib/storage/streaming_writer.py writes them. By default (`choose_codecs=True`) the encoder
estimates from each block's statistics which fast codec (lib/codecs/) is smallest and writes only
that one; `exhaustive=True` adds the slower candidates and general-purpose compression;
`choose_codecs=False` stores plain Gorilla, as phase 3 does. docs/format.md is the reference for
every byte: offsets and widths, every codec tag, each stream's layout, the version table and what a
reader must refuse.

A worked example: one point, 1.5 at t = 1_700_000_000 s (in ns), written with
`choose_codecs=False`, is a 30-byte block:

    01 00 00 00                count 1, little-endian
    01 01                      timestamp tag 1 and value tag 1: Gorilla for both
    08 00 00 00                timestamp stream of 8 bytes
    17 97 9C FE 36 2A 00 00    the timestamp, 64 bits MSB-first (one point: nothing else)
    3F F8 00 00 00 00 00 00    1.5 as its IEEE 754 pattern, MSB-first: the value stream
    14 E9 F5 6C                CRC32 of the 26 bytes before it, little-endian

For a series whose timestamps go up, min and max are its first and last timestamp. A reader
opens only regular files (a named pipe or device at the path is refused, not waited on) and
trusts nothing it reads: every offset, length and count is checked against the bytes present
before it is used, and any mismatch raises FormatError naming the series and block. A read of
many blocks (a whole file) decodes them together: the k-th bins stream of every block in one numpy
pass (lib/codecs/bins/batched.py), checked as strictly as the per-block decoder, which stays the
reference and names the block when something is damaged. No block can
claim more than the header's block_points, so a damaged count never asks for more than about
1 MB of memory per block. Files of format version 1 are refused with a message saying how to
write them again.
"""
import struct
import zlib
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from operator import itemgetter
from pathlib import Path

import numpy as np

from lib.codecs.bins.batched import drive
from lib.codecs.limits import cache_groups
from lib.codecs.gorilla import encode_timestamps, encode_values
from lib.codecs.choice import encode_values_best, smallest
from lib.codecs.timestamp_choice import SHORTEST_FAST_TIMESTAMP_STREAM, encode_timestamps_best
from lib.codecs.registry import (
    batched_timestamp_decoder, batched_value_decoder, decode_timestamps_tagged, decode_values_tagged, finish_batched_timestamps, finish_batched_values, tag_name, timestamp_tag_name,
)
from lib.codecs.registry import GORILLA, TIMESTAMP_GORILLA, TIMESTAMP_SHARED
from lib.codecs.shared_timestamps import SharedReference, encode_shared
from lib.data.dataset import Series, series_key
from lib.errors import FormatError
from lib.plumbing.regular_files import open_regular_file
from lib.storage.file_layout import CRC, TRAILING_INDEX_VERSION, read_layout, unpack_index_section
from lib.storage.index_section import check_tiling, parse_index, parse_index_v2

DEFAULT_BLOCK_POINTS = 8192
MAX_BLOCK_POINTS = 0xFFFF  # the header stores block_points in 16 bits
BLOCK_HEADER = struct.Struct("<IBBI")


def encode_block(timestamps, values, choose_codecs=True, exhaustive=False, shared_block=None):
    """One block: its point count, codec tags, both streams and a CRC32. `shared_block`: the number
    of an earlier block of the file with the very same timestamps, referred to (TIMESTAMP_SHARED)
    instead of storing them when the reference is smaller; then the block decodes only in its file."""
    if choose_codecs:
        timestamp_tag, timestamp_stream = _timestamps_or_reference(timestamps, exhaustive, shared_block)
        value_tag, value_stream = encode_values_best(values, exhaustive)
    else:
        timestamp_tag, timestamp_stream = TIMESTAMP_GORILLA, encode_timestamps(timestamps)
        value_tag, value_stream = GORILLA, encode_values(values)
    body = b"".join((
        BLOCK_HEADER.pack(len(timestamps), timestamp_tag, value_tag, len(timestamp_stream)),
        timestamp_stream,
        value_stream,
    ))
    return body + CRC.pack(zlib.crc32(body))


def _timestamps_or_reference(timestamps, exhaustive, shared_block):
    """(tag, stream) of the chosen timestamp codec, or of a reference to block `shared_block` where
    that is smaller; the fast choice writes no stream as short as most references, so then the
    block's timestamps are not even encoded."""
    if shared_block is None:
        return encode_timestamps_best(timestamps, exhaustive)
    reference = (TIMESTAMP_SHARED, encode_shared(shared_block))
    if not exhaustive and len(reference[1]) < SHORTEST_FAST_TIMESTAMP_STREAM:
        return reference
    return smallest([encode_timestamps_best(timestamps, exhaustive), reference])


def record_codec_usage(usage, block, metric, block_length=None):
    """Count a block's codecs and stream bytes into usage = {"timestamps": {...}, "values": {...}},
    each {codec name: {"blocks", "points", "bytes"}}, for a report of which codec won how often;
    and usage["by_metric"] = {metric name: {value codec name: points}}, which codec each metric chose.
    `block` may be the block's first BLOCK_HEADER.size bytes alone, with `block_length` its whole length."""
    points, timestamp_tag, value_tag, timestamp_length = BLOCK_HEADER.unpack_from(block)
    by_metric = usage.setdefault("by_metric", {}).setdefault(metric, {})
    by_metric[tag_name(value_tag)] = by_metric.get(tag_name(value_tag), 0) + points
    block_length = len(block) if block_length is None else block_length
    value_length = block_length - BLOCK_HEADER.size - timestamp_length - CRC.size
    for column, name, length in (("timestamps", timestamp_tag_name(timestamp_tag), timestamp_length),
                                 ("values", tag_name(value_tag), value_length)):
        row = usage.setdefault(column, {}).setdefault(name, {"blocks": 0, "points": 0, "bytes": 0})
        row["blocks"] += 1
        row["points"] += points
        row["bytes"] += length


def decode_block(block, where="block", expected_points=None):
    """Check a block's CRC and decode it into (timestamps, values)."""
    count, timestamp_tag, timestamp_stream, value_tag, value_stream = open_block(block, where, expected_points)
    try:
        timestamps = decode_timestamps_tagged(timestamp_tag, timestamp_stream, count)
        values = decode_values_tagged(value_tag, value_stream, count)
    except FormatError as exc:
        raise FormatError(f"{where}: {exc}") from None
    return timestamps, values


def open_block(block, where="block", expected_points=None):
    """(count, timestamp tag, timestamp stream, value tag, value stream) of a block whose CRC,
    point count and stream length check out."""
    if len(block) < BLOCK_HEADER.size + CRC.size:
        raise FormatError(f"{where}: {len(block)} bytes is too short for a block")
    block = memoryview(block)
    body, (stored_crc,) = block[: -CRC.size], CRC.unpack_from(block, len(block) - CRC.size)
    if zlib.crc32(body) != stored_crc:
        raise FormatError(f"{where}: checksum mismatch, the block is damaged")
    count, timestamp_tag, value_tag, timestamp_length = BLOCK_HEADER.unpack_from(body)
    if expected_points is not None and count != expected_points:
        raise FormatError(f"{where}: block holds {count} points, the index says {expected_points}")
    timestamps_end = BLOCK_HEADER.size + timestamp_length
    if timestamps_end > len(body):
        raise FormatError(f"{where}: timestamp stream length {timestamp_length} runs past the block")
    return (count, timestamp_tag, bytes(body[BLOCK_HEADER.size:timestamps_end]), value_tag,
            bytes(body[timestamps_end:]))


@dataclass(frozen=True)
class BlockName:
    """Names a block in error messages, turned into text only when one is raised: the series'
    display name costs more to build than a small block costs to decode."""
    path: Path
    entry: object  # the SeriesEntry of the block's series
    number: int

    def __str__(self):
        return f"{self.path}: series {self.entry.display_name()}, block {self.number}"


BATCH_FROM_BLOCKS = 3
BATCH_POINTS = 1 << 18


def decode_blocks_batched(blocks):
    """decode_block of many (block, where, expected_points) at once: [(timestamps, values)].

    Every block's header is read in Python, then the bins streams of all blocks are decoded
    together, stream by stream (lib/codecs/bins/batched.py), and the decimal and grid arithmetic
    of all blocks is done in whole arrays (`decode_blocks_together`), in batches of about
    BATCH_POINTS points so that a big file's read needs only a few batch-sized arrays more than
    its result. Damage raises FormatError; to name the damaged block, the blocks are then decoded
    one by one. A read of fewer than BATCH_FROM_BLOCKS blocks decodes them one by one straight
    away: batching pays only across blocks."""
    if len(blocks) < BATCH_FROM_BLOCKS:
        return [decode_block(*block) for block in blocks]
    decoded, start, points = [], 0, 0
    for end, (_, _, block_points) in enumerate(blocks, 1):
        points += block_points
        if points >= BATCH_POINTS or end == len(blocks):
            try:
                decoded += decode_blocks_together(blocks[start:end])
            except FormatError:
                decoded += [decode_block(*block) for block in blocks[start:end]]
            start, points = end, 0
    return decoded


def decode_blocks_together(blocks):
    """The batched decoder behind `decode_blocks_batched`: FormatError on damage, without saying
    in which block a damaged bins stream lies."""
    opened = [open_block(*block) for block in blocks]
    decoders = [batched_timestamp_decoder(tag, stream, count) for count, tag, stream, _, _ in opened]
    decoders += [batched_value_decoder(tag, stream, count) for count, _, _, tag, stream in opened]
    results = drive(decoders)
    timestamps = finish_batched_timestamps(results[:len(blocks)])
    values = finish_batched_values(results[len(blocks):])
    return list(zip(timestamps, values))


def check_time_ranges(decoded, places, names):
    """Refuse a block whose decoded timestamps do not span its index entry's time range. The
    blocks' timestamps are laid end to end a cache-sized group at a time, so that many short blocks
    cost one minimum and one maximum (np.minimum.reduceat) instead of two calls each."""
    for group in cache_groups([len(timestamps) for timestamps, _ in decoded]):
        group = [n for n in group if len(decoded[n][0])]
        if not group:
            continue
        together = np.concatenate([decoded[n][0] for n in group]) if len(group) > 1 else decoded[group[0]][0]
        starts = list(accumulate((len(decoded[n][0]) for n in group[:-1]), initial=0))
        lows, highs = (extreme.reduceat(together, starts).tolist() for extreme in (np.minimum, np.maximum))
        for n, low, high in zip(group, lows, highs):
            if (low, high) != (places[n].min_timestamp, places[n].max_timestamp):
                raise FormatError(f"{names[n]}: decoded timestamps do not match the index's time range")


def split_into_blocks(count, block_points):
    """[start, end) point ranges of at most block_points; an empty series has no blocks."""
    return [(start, min(start + block_points, count)) for start in range(0, count, block_points)]


def time_range(timestamps):
    """(min, max) of a block's timestamps; an empty block covers nothing: (0, -1)."""
    if len(timestamps) == 0:
        return 0, -1
    return int(timestamps.min()), int(timestamps.max())


def overlapping_blocks(entry, start, end):
    """Numbers of the blocks of a series whose time range meets [start, end)."""
    return [n for n, b in enumerate(entry.blocks) if b.min_timestamp < end and b.max_timestamp >= start]


class MetricsFile:
    """An opened METRICS! file: the index is in memory, blocks are read on demand.

    `bytes_read` counts every byte taken from the file, so callers can see what a query touched.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.bytes_read = 0
        # A named pipe or device at the path is refused here instead of hanging a read, and reads
        # stop at the size the file had when opened.
        self.file, self.file_size = open_regular_file(self.path)
        try:
            self.series = self._read_index()
        except BaseException:
            self.file.close()
            raise
        self._by_key = {entry.key: entry for entry in self.series}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.file.close()

    def _read_at(self, offset, length):
        self.file.seek(offset)
        data = self.file.read(length)
        self.bytes_read += len(data)
        if len(data) != length:
            raise FormatError(f"{self.path}: file ends at byte {offset + len(data)}, {length} bytes wanted at {offset}")
        return data

    def _read_index(self):
        self.layout, section = read_layout(self._read_at, self.file_size, self.path)
        self.version, self.block_points = self.layout.version, self.layout.block_points
        self.data_offset, self.data_length = self.layout.data_offset, self.layout.data_length
        index = unpack_index_section(section, self.path)
        series = (parse_index if self.version >= TRAILING_INDEX_VERSION else parse_index_v2)(index, self.path)
        for number, entry in enumerate(series):
            self._check_entry(entry)
            if number and not series[number - 1].key < entry.key:
                raise FormatError(f"{self.path}: series {entry.display_name()} is out of order or repeated in the index")
        if self.version >= TRAILING_INDEX_VERSION:
            check_tiling(series, self.data_length, self.path)
        return series

    def _check_entry(self, entry):
        def where():  # named only when something is wrong: building names for every series costs
            return f"{self.path}: series {entry.display_name()}"

        if not entry.name:
            raise FormatError(f"{where()}: empty metric name")
        if sum(b.points for b in entry.blocks) != entry.points:
            raise FormatError(f"{where()}: block point counts do not add up to {entry.points}")
        for number, block in enumerate(entry.blocks):
            if block.offset + block.length > self.data_length:
                raise FormatError(f"{where()}, block {number}: offset {block.offset} + length {block.length} "
                                  f"runs past the data section ({self.data_length} bytes)")
            if not 1 <= block.points <= self.block_points:
                raise FormatError(f"{where()}, block {number}: {block.points} points, but blocks hold at most "
                                  f"{self.block_points}")

    def read_block_header(self, entry, number):
        """The first BLOCK_HEADER.size bytes of one block (its count, tags and timestamp stream
        length), read without the rest of the block; FormatError if they disagree with the index."""
        block = entry.blocks[number]
        if block.length < BLOCK_HEADER.size + CRC.size:
            raise FormatError(f"{BlockName(self.path, entry, number)}: {block.length} bytes is too short for a block")
        header = self._read_at(self.data_offset + block.offset, BLOCK_HEADER.size)
        count, _, _, timestamp_length = BLOCK_HEADER.unpack(header)
        if count != block.points or timestamp_length > block.length - BLOCK_HEADER.size - CRC.size:
            raise FormatError(f"{BlockName(self.path, entry, number)}: block header disagrees with the index")
        return header

    def find(self, name, labels=None):
        entry = self._by_key.get(series_key(name, labels or {}))
        if entry is None:
            raise KeyError(f"no series {name}{labels or {}} in {self.path}")
        return entry

    def _decode_blocks(self, entry, block_numbers, data_section=None):
        """Decode the blocks of one series; `data_section`, when given, is the whole data section
        already read (whole-file reads take it in one read instead of one per block)."""
        return self._decode_series_blocks([(entry, block_numbers)], data_section)[0]

    def _decode_series_blocks(self, wanted, data_section=None):
        """[(timestamps, values)] of [(series entry, block numbers)], all blocks decoded together
        (decode_blocks_batched), each series' blocks checked against its index entries."""
        blocks, places = [], []
        for entry, numbers in wanted:
            for number in numbers:
                block = entry.blocks[number]
                where = BlockName(self.path, entry, number)
                if data_section is None:
                    data = self._read_at(self.data_offset + block.offset, block.length)
                else:
                    data = data_section[block.offset:block.offset + block.length]
                blocks.append((data, where, block.points))
                places.append(block)
        decoded = decode_blocks_batched(blocks)
        self._resolve_shared(blocks, places, decoded, data_section)
        check_time_ranges(decoded, places, [where for _, where, _ in blocks])
        decoded = iter(decoded)
        result = []
        for _, numbers in wanted:
            pairs = [next(decoded) for _ in numbers]
            timestamps, values = [ts for ts, _ in pairs], [vs for _, vs in pairs]
            if not timestamps:
                result.append((np.empty(0, np.int64), np.empty(0, np.float64)))
            elif len(timestamps) == 1:
                result.append((timestamps[0], values[0]))
            else:
                result.append((np.concatenate(timestamps), np.concatenate(values)))
        return result

    @cached_property
    def _file_order(self):
        """(the blocks as (entry, number) in data-section order, {offset: position in that order}):
        shared-timestamps references count blocks in this order."""
        blocks = [(b.offset, entry, number) for entry in self.series for number, b in enumerate(entry.blocks)]
        blocks.sort(key=itemgetter(0))
        positions = {}
        for position, (offset, _, _) in enumerate(blocks):
            positions.setdefault(offset, position)
        return [(entry, number) for _, entry, number in blocks], positions

    def _resolve_shared(self, blocks, places, decoded, data_section):
        """Put the referenced block's timestamps in place of each SharedReference in `decoded`
        (the results for `blocks`, whose index entries are `places`), decoding a referenced block
        that is not among them; FormatError for a reference the format forbids."""
        batch = {place.offset: n for n, place in enumerate(places)}
        references = {n: timestamps for n, (timestamps, _) in enumerate(decoded)
                      if isinstance(timestamps, SharedReference)}
        for n, reference in references.items():
            target_where, target = self._shared_target(places[n], blocks[n][1], reference)
            if target.offset in batch:
                target_timestamps = references.get(batch[target.offset], decoded[batch[target.offset]][0])
            else:
                target_timestamps = self._decode_target(target, target_where, data_section)
            if isinstance(target_timestamps, SharedReference):
                raise FormatError(f"{blocks[n][1]}: its timestamps are those of {target_where}, whose "
                                  f"timestamps are themselves another block's")
            decoded[n] = (target_timestamps.copy(), decoded[n][1])

    def _shared_target(self, place, where, reference):
        """(name, index entry) of the block a reference names, checked: an earlier block of the
        file, of the same point count."""
        in_order, positions = self._file_order
        position = positions[place.offset]
        if reference.block == position:
            raise FormatError(f"{where}: its timestamps refer to itself (block {position} of the file)")
        if reference.block >= len(in_order):
            raise FormatError(f"{where}: its timestamps refer to block {reference.block} of the file, which has "
                              f"{len(in_order)} blocks")
        if reference.block > position:
            raise FormatError(f"{where}: its timestamps refer to block {reference.block} of the file, which comes "
                              f"after it (block {position}): a reference must point back")
        entry, number = in_order[reference.block]
        target = entry.blocks[number]
        if target.points != reference.count:
            raise FormatError(f"{where}: its {reference.count} timestamps refer to block {reference.block} of the "
                              f"file, which holds {target.points} points")
        return BlockName(self.path, entry, number), target

    def _decode_target(self, target, where, data_section):
        """The timestamps of a block referred to by another (a SharedReference if it is one itself)."""
        if data_section is None:
            data = self._read_at(self.data_offset + target.offset, target.length)
        else:
            data = data_section[target.offset:target.offset + target.length]
        return decode_block(data, where, target.points)[0]

    def read_blocks(self, entry, block_numbers):
        """(timestamps, values) of some blocks of a series (an index entry), in the order given."""
        return self._decode_blocks(entry, block_numbers)

    def read_series(self, name, labels=None):
        """One whole series, reading only its own blocks."""
        entry = self.find(name, labels)
        timestamps, values = self._decode_blocks(entry, range(len(entry.blocks)))
        return Series(entry.name, entry.labels, timestamps, values)

    def read_range(self, name, labels, start, end):
        """The points of one series with start <= timestamp < end, decoding only overlapping blocks."""
        entry = self.find(name, labels)
        timestamps, values = self._decode_blocks(entry, overlapping_blocks(entry, start, end))
        inside = (timestamps >= start) & (timestamps < end)
        return Series(entry.name, entry.labels, timestamps[inside], values[inside])

    def points_surely_in_range(self, name, labels, start, end):
        """Points of the blocks lying wholly inside [start, end): a lower bound from the index alone."""
        entry = self.find(name, labels)
        return sum(b.points for b in entry.blocks if b.points and b.min_timestamp >= start and b.max_timestamp < end)

    def read_all(self):
        """Every series, reading the data section in one go."""
        data_section = memoryview(self._read_at(self.data_offset, self.data_length))
        decoded = self._decode_series_blocks([(e, range(len(e.blocks))) for e in self.series], data_section)
        return [Series(e.name, e.labels, *arrays) for e, arrays in zip(self.series, decoded)]


def read_file(path):
    """Read a whole METRICS! file back into a dataset."""
    with MetricsFile(path) as metrics_file:
        return metrics_file.read_all()
