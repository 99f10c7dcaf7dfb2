"""Writing a METRICS! file as points arrive: series interleaved, each block written as soon as it is cut.

A scrape loop, a long CSV or a line-protocol export delivers points in arrival order: a few points
of every series, then a few more. Holding them all until the end would cap a file at the size of
memory. So the writer keeps one bounded buffer per series and cuts a block (with `encode_block`,
lib/storage/metrics_file.py) when a series' buffer reaches `block_points`, or, when the points
buffered over all series reach the memory budget, cuts the largest buffers first until half the
budget is free again, as Prometheus' head cuts its chunks. Each block goes to a temporary file
beside the target as it is cut; the writer keeps only its index entry. `close()` appends the index
and the footer (format version 4: lib/storage/file_layout.py), fsyncs and renames the file into
place; an error, a crash or Ctrl-C leaves no file at the target (the temporary file is removed).

The trade-off: memory is the budget plus the index (and SHARED_MEMORY_BYTES of recent timestamps),
whatever the input's size, but a series cut by the budget gets smaller blocks (which compress a
little less well), and blocks of different series interleave in the file (a reader seeks to each
block anyway).

    with StreamingWriter("out.bin") as writer:
        for name, labels, timestamps, values in scrapes:     # chunks of any size
            writer.add(name, labels, timestamps, values)
    # only now does out.bin exist, complete

Series scraped by one loop have the same timestamps block for block: the writer remembers the
timestamps of recent blocks (up to SHARED_MEMORY_BYTES of them, keyed by a hash and compared in
full) and writes a block whose timestamps it has seen as a reference to the earlier block
(lib/codecs/shared_timestamps.py) where that is smaller. Out-of-order and repeated timestamps are kept: a block holds its points in arrival order, and its
time range is their min and max. `write_file` is this writer fed whole series, one after the other,
each cut as `split_into_blocks` cuts it: a batch write's blocks are the blocks of format version 2,
byte for byte, in the same order.
"""
from array import array
from collections import OrderedDict

import numpy as np

from lib.codecs.registry import TIMESTAMP_SHARED
from lib.data.dataset import Series, canonical_order, series_key
from lib.plumbing.atomic import atomic_write
from lib.storage.file_layout import pack_footer, pack_header, pack_index_section
from lib.storage.index_section import BlockEntry, pack_index, series_entry
from lib.storage.metrics_file import (
    BLOCK_HEADER, DEFAULT_BLOCK_POINTS, MAX_BLOCK_POINTS, encode_block, record_codec_usage, time_range,
)

POINT_BYTES = 16  # a buffered point: int64 timestamp and float64 value
DEFAULT_MEMORY_BUDGET = 128 << 20  # room for 1,000 series to fill 8,192-point blocks before any is cut early
SHARED_MEMORY_BYTES = 16 << 20  # timestamps of earlier blocks kept for references: 256 full blocks, 17,000 of 120


class SeenTimestamps:
    """The timestamps of the latest blocks that stored their own, up to `budget` bytes, the oldest
    forgotten first, each with its block number: `find` names an earlier block with the very same
    timestamps (looked up by a fingerprint, then compared in full), or None. The fingerprint (count,
    first, last, sum) costs one pass; two different blocks with the same one only keep the later
    findable, never a wrong reference."""

    def __init__(self, budget=SHARED_MEMORY_BYTES):
        self.budget, self.size = budget, 0
        self.blocks = OrderedDict()  # hash -> (timestamps, block number)

    @staticmethod
    def _key(timestamps):
        if not timestamps.size:
            return 0,
        return timestamps.size, int(timestamps[0]), int(timestamps[-1]), int(timestamps.sum())  # the sum wraps

    def find(self, timestamps):
        seen = self.blocks.get(self._key(timestamps))
        if seen is not None and np.array_equal(seen[0], timestamps):
            return seen[1]
        return None

    def remember(self, timestamps, number):
        if timestamps.nbytes > self.budget:
            return
        key = self._key(timestamps)
        if key in self.blocks:
            self.size -= self.blocks.pop(key)[0].nbytes
        self.blocks[key] = (timestamps.copy(), number)  # the caller's array may change after
        self.size += timestamps.nbytes
        while self.size > self.budget:
            self.size -= self.blocks.popitem(last=False)[1][0].nbytes


class SeriesBuffer:
    """The points of one series not yet in a block (compact typed arrays), and its blocks so far."""

    def __init__(self, name, labels):
        self.name, self.labels = name, dict(labels)
        self.timestamps, self.values = array("q"), array("d")
        self.blocks = []

    def __len__(self):
        return len(self.timestamps)

    def append(self, timestamps, values):
        self.timestamps.frombytes(timestamps.tobytes())
        self.values.frombytes(values.tobytes())

    def take(self, count):
        """The first `count` buffered points as numpy arrays, removed from the buffer."""
        timestamps = np.frombuffer(self.timestamps, np.int64, count).copy()
        values = np.frombuffer(self.values, np.float64, count).copy()
        del self.timestamps[:count], self.values[:count]
        return timestamps, values


class StreamingWriter:
    """Points in, a METRICS! file out, with memory bounded by `memory_budget` bytes of buffered points.

    choose_codecs, exhaustive: as for encode_block. codec_usage: a dict filled by record_codec_usage.
    progress: a lib.plumbing.progress.Progress advanced by the points of each `add`.
    """

    def __init__(self, path, block_points=DEFAULT_BLOCK_POINTS, memory_budget=DEFAULT_MEMORY_BUDGET,
                 choose_codecs=True, exhaustive=False, codec_usage=None, progress=None):
        if not 1 <= block_points <= MAX_BLOCK_POINTS:
            raise ValueError(f"block_points must be in 1..{MAX_BLOCK_POINTS}")
        if memory_budget < POINT_BYTES:
            raise ValueError(f"a memory budget of {memory_budget} bytes holds no point")
        self.block_points = block_points
        self.budget_points = memory_budget // POINT_BYTES
        self.encoding = (choose_codecs, exhaustive)
        self.codec_usage, self.progress = codec_usage, progress
        self.series = {}  # series key -> SeriesBuffer, in order of first appearance
        self.buffered = 0  # points in all buffers
        self.header = pack_header(block_points)
        self._target = atomic_write(path)
        self.file = self._target.__enter__()
        self.file.write(self.header)
        self.data_length = 0
        self.blocks_written = 0
        self.seen = SeenTimestamps()
        self.size = None  # the file's size, once closed

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.close()
        else:
            self.abort(exc)

    def add(self, name, labels, timestamps, values):
        """Append points of one series (any number, 0 included: the series is listed without points)."""
        buffer = self._buffer(name, labels)
        timestamps = np.ascontiguousarray(timestamps, dtype=np.int64)
        values = np.ascontiguousarray(values, dtype=np.float64)
        if timestamps.ndim != 1 or timestamps.shape != values.shape:
            raise ValueError(f"{buffer.name}: {timestamps.shape} timestamps but {values.shape} values")
        whole = 0
        if not len(buffer):  # nothing pending: whole blocks come straight from the chunk, uncopied
            whole = len(timestamps) - len(timestamps) % self.block_points
            for start in range(0, whole, self.block_points):
                end = start + self.block_points
                self._write_block(buffer, timestamps[start:end], values[start:end])
        buffer.append(timestamps[whole:], values[whole:])
        self.buffered += len(timestamps) - whole
        while len(buffer) >= self.block_points:
            self._cut(buffer, self.block_points)
        if self.buffered > self.budget_points:
            self._relieve()
        if self.progress is not None:
            self.progress.advance(len(timestamps))

    def end_series(self, name, labels):
        """No more points of this series will come: cut what it has buffered into a block now."""
        buffer = self._buffer(name, labels)
        if len(buffer):
            self._cut(buffer, len(buffer))

    def close(self):
        """Cut every buffer, append index and footer, and move the file into place; its size in bytes."""
        try:
            for buffer in self.series.values():
                if len(buffer):
                    self._cut(buffer, len(buffer))
            entries = canonical_order_of_entries(self.series.values())
            index_offset = len(self.header) + self.data_length
            section = pack_index_section(pack_index(entries))
            self.file.write(section)
            self.file.write(pack_footer(self.header, index_offset, section))
            size = self.file.tell()
        except BaseException as exc:
            self.abort(exc)
            raise
        target, self._target = self._target, None
        target.__exit__(None, None, None)
        self.size = size
        return size

    def abort(self, error=None):
        """Give up: the temporary file is removed and nothing appears at the target."""
        target, self._target = self._target, None
        if target is not None:
            error = error if error is not None else RuntimeError("write aborted")
            target.__exit__(type(error), error, error.__traceback__)

    def _buffer(self, name, labels):
        key = series_key(name, labels)
        buffer = self.series.get(key)
        if buffer is None:
            Series(name, labels, [], [])  # refuses a bad name or labels once, with the data model's message
            buffer = self.series[key] = SeriesBuffer(name, labels)
        return buffer

    def _cut(self, buffer, count):
        self.buffered -= count
        self._write_block(buffer, *buffer.take(count))

    def _relieve(self):
        """Over budget: cut the largest buffers first until half the budget is free."""
        for buffer in sorted(self.series.values(), key=len, reverse=True):
            if self.buffered <= self.budget_points // 2 or not len(buffer):
                break
            self._cut(buffer, len(buffer))

    def _write_block(self, buffer, timestamps, values):
        choose_codecs = self.encoding[0]
        shared = self.seen.find(timestamps) if choose_codecs else None
        block = encode_block(timestamps, values, *self.encoding, shared_block=shared)
        if choose_codecs and BLOCK_HEADER.unpack_from(block)[1] != TIMESTAMP_SHARED:
            self.seen.remember(timestamps, self.blocks_written)
        self.blocks_written += 1
        if self.codec_usage is not None:
            record_codec_usage(self.codec_usage, block, buffer.name)
        self.file.write(block)
        buffer.blocks.append(BlockEntry(self.data_length, len(block), len(timestamps), *time_range(timestamps)))
        self.data_length += len(block)


def canonical_order_of_entries(buffers):
    """The index entries of the buffers, sorted by series identity, as the index lists them."""
    return sorted((series_entry(b.name, b.labels, b.blocks) for b in buffers), key=lambda entry: entry.key)


def write_file(path, series_list, block_points=DEFAULT_BLOCK_POINTS, choose_codecs=True, exhaustive=False,
               codec_usage=None, progress=None):
    """Write the series to a METRICS! file atomically; returns its size in bytes.

    choose_codecs: store each block with the codec estimated smallest (False: Gorilla only).
    exhaustive: also try the bit-packed and byte-plane codecs and zlib/lzma over each stream, kept
    where smaller (much slower to write).
    codec_usage: a dict to fill for reports (see record_codec_usage).
    progress: a lib.plumbing.progress.Progress advanced by each series' points as it is encoded.
    """
    with StreamingWriter(path, block_points, choose_codecs=choose_codecs, exhaustive=exhaustive,
                         codec_usage=codec_usage, progress=progress) as writer:
        for s in canonical_order(series_list):
            writer.add(s.name, s.labels, s.timestamps, s.values)
            writer.end_series(s.name, s.labels)
    return writer.size
