"""What a damaged stream can make a decoder do: the limits every codec checks before it allocates.

A codec's stream does not store its point count: the caller (a METRICS! block header) does, and a
damaged header could claim any number. So every decoder first calls `check_count`, which refuses
counts beyond MAX_COUNT, and every decompression stops at `max_stream_bytes(count)`, the most any
codec needs for `count` values. Example: 8,192 values may inflate to at most 32 * 8192 + 64 bytes.

A few bytes can still claim MAX_COUNT values (a bins stream whose values all fall in one bin of
width 0 is four bytes long, whatever the count), so decoders also bound what they hold at once:
they write each step over the array they already have, and work through long arrays `slices` of
SLICE_VALUES values at a time, so that their temporaries stay a fixed size. A decode then peaks
at a small multiple of its result (the tests measure it), not at a dozen arrays of it.
"""
import numpy as np

from lib.errors import FormatError

MAX_COUNT = 1 << 26  # points per stream; bounds what a damaged caller-side count can allocate
# No codec in lib/codecs/ needs more than this many bytes per value (decimal at its worst: an 8-byte
# packed residual, an exception pattern and two varint positions), so a decompressor is stopped there.
MAX_BYTES_PER_VALUE = 32
MAX_OVERHEAD_BYTES = 64


def check_count(count):
    """Refuse a count that is not an integer in 0..MAX_COUNT (a bool is not a count)."""
    if type(count) is int and 0 <= count <= MAX_COUNT:  # the usual case, decided at once
        return
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or not 0 <= count <= MAX_COUNT:
        raise FormatError(f"point count must be an integer in 0..{MAX_COUNT}, got {count!r}")


SLICE_VALUES = 1 << 16  # values per slice: 512 KB per temporary array, and few slices per block


def slices(count, size=None):
    """(start, end) of the consecutive slices of at most `size` (SLICE_VALUES) values that cover
    `count`: slices(5, 2) -> [(0, 2), (2, 4), (4, 5)]."""
    size = size or SLICE_VALUES
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def is_long(count):
    """Whether `count` values take more than one slice: batched decoders leave such a block to
    the one-block decoder, whose temporaries do not grow with it."""
    return count > SLICE_VALUES


def groups(counts, size):
    """Consecutive groups of indices into `counts` whose counts add up to at most `size`, or one
    index alone: batched decoders work through many blocks a group at a time, so that their
    temporaries stay bounded too. groups([3, 3, 5, 1], 6) -> [[0, 1], [2, 3]]."""
    grouped, group, total = [], [], 0
    for index, count in enumerate(counts):
        if group and total + count > size:
            grouped.append(group)
            group, total = [], 0
        group.append(index)
        total += count
    return grouped + [group] if group else grouped


def cache_groups(counts):
    """`groups` of at most half a slice of values (32,768) each: a group's arrays stay in the CPU's
    cache, which makes the numpy passes over them quicker than over arrays of many times the
    size, while a pass still covers many short blocks at once. Every batched finisher uses them:
    decimal-bins in groups of 262,144 values read regular_seconds 6% slower, at a peak 1 MB higher."""
    return groups(counts, max(SLICE_VALUES // 2, 1))


def max_stream_bytes(count):
    """Upper bound on any plain stream for `count` values; decompression stops there."""
    return MAX_BYTES_PER_VALUE * count + MAX_OVERHEAD_BYTES
