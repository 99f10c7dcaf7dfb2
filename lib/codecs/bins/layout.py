"""The nouns of a bins stream: its modes, the bins of each precision and their keys, its header,
and the checks every reader (reference, fast, batched) makes before it trusts a count or an offset.
docs/format.md, "Bins stream", is normative; lib/codecs/bins/__init__.py explains the idea.
"""
import functools
from collections import namedtuple
from itertools import accumulate

import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.bitstream.stream import MASK64, WORD_BITS
from lib.bitstream.varint import read_varint_list
from lib.codecs.limits import check_count
from lib.codecs.stream_coder import positions_of_many_runs
from lib.errors import FormatError

DENSE, SPARSE = 0, 1
MAX_PRECISION = 3
PRECISIONS = tuple(range(MAX_PRECISION + 1))
MAX_SPLIT = 3
SPLITS = tuple(range(MAX_SPLIT + 1))
SPARSE_SURE = 4  # fewer than 1 in SPARSE_SURE values non-zero: sparse without sizing the dense stream

_U64 = np.uint64


def bin_keys(unsigned, precision):
    """(keys, offset widths) of uint64 values: p = 1, [0, 3, 5, 12] -> keys [0, 3, 4, 7], widths [0, 0, 1, 2]."""
    lengths = bit_lengths(unsigned)
    small = lengths <= precision + 1
    widths = np.where(small, 0, lengths - 1 - precision)
    top = (unsigned >> widths.astype(_U64)).astype(np.int64)  # the top p + 1 bits (or the value)
    above = (1 << (precision + 1)) + ((lengths - precision - 2) << precision) + top - (1 << precision)
    keys = np.where(small, top, above)
    return keys, widths


def key_bins(keys, precision):
    """(lower bounds, offset widths) of the bins with these keys; the inverse of `bin_keys`."""
    keys = np.asarray(keys, dtype=np.int64)
    exact = 1 << (precision + 1)
    above = np.maximum(keys - exact, 0)
    lengths = (above >> precision) + precision + 2
    top = (above & ((1 << precision) - 1)) + (1 << precision)
    widths = np.where(keys < exact, 0, lengths - 1 - precision)
    lower = np.where(keys < exact, keys, top).astype(_U64) << widths.astype(_U64)
    return lower, widths


def max_key(precision):
    """Keys run from 0 to this: bit length 64 with all p top bits set."""
    return (1 << (precision + 1)) + ((WORD_BITS - precision - 2) << precision) + (1 << precision) - 1


MAX_KEYS_BY_PRECISION = [max_key(precision) for precision in PRECISIONS]


BIN_TABLES = [key_bins(np.arange(max_key(precision) + 1), precision) for precision in PRECISIONS]


CodeTables = namedtuple("CodeTables", "lowers widths shifts widest")


@functools.lru_cache(maxsize=256)
def code_tables(precision, ranked, split):
    """A stream's bins indexed by CODE rather than rank: (lowers, widths, shifts = 63 - widths, the
    widest width). A value's code is the length of its unary code (the zeros and the one) shifted
    left by `split`, OR its low bits: rank + 2**split. The reader gets it from the gap between
    two one bits without subtracting the one; the first 2**split rows are never a valid code and
    read as an empty bin. Example: p = 0, keys (3, 0), split 0: codes 1 and 2 are bins 4..7
    (lower 4, width 2) and 0. `ranked` is a tuple: streams with the same header share the tables."""
    lowers, widths = BIN_TABLES[precision]
    keys = list(ranked)
    pad = 1 << split
    lowers = np.concatenate([np.zeros(pad, dtype=_U64), lowers[keys]])
    widths = np.concatenate([np.zeros(pad, dtype=np.int64), widths[keys]])
    tables = CodeTables(lowers, widths, (63 - widths).astype(_U64), int(widths.max()))
    for table in tables[:3]:
        table.flags.writeable = False  # shared by every stream with this header
    return tables


def read_varint(blob, offset):
    """One varint: (value, end offset). A varint of one or two bytes, the usual bin count or
    section length, is read here without building read_varint_list's list."""
    if offset < len(blob) and blob[offset] < 0x80:
        return blob[offset], offset + 1
    if offset + 1 < len(blob) and blob[offset + 1] < 0x80:
        return blob[offset] & 0x7F | blob[offset + 1] << 7, offset + 2
    (value,), offset = read_varint_list(blob, 1, offset)
    return value, offset


def read_keys(blob, offset, count):
    """(`count` varints as a list, end offset): bin keys, which take one or two bytes (every key is
    below 2**14): all of one byte in one slice, the usual case, otherwise `read_varint_list`."""
    keys = blob[offset:offset + count]
    if len(keys) == count and (not keys or max(keys) < 0x80):  # every key one byte: the usual case
        return list(keys), offset + count
    return read_varint_list(blob, count, offset)


def read_header_fields(blob, offset, count):
    """(precision, split, the ranked bin keys as a list, end offset) of a dense stream's header, checked."""
    check_count(count)
    if offset >= len(blob):
        raise FormatError("bins stream is truncated")
    precision, split = blob[offset] & 0x0F, blob[offset] >> 4
    if precision > MAX_PRECISION or split > MAX_SPLIT:
        raise FormatError(f"bins precision {precision} or rank split {split} is out of range")
    bins, offset = read_varint(blob, offset + 1)
    if bins > MAX_KEYS_BY_PRECISION[precision] + 1 or (count and bins == 0) or bins > max(count, 1):
        raise FormatError(f"{bins} bins for {count} values")
    ranked, offset = read_keys(blob, offset, bins)
    if ranked and max(ranked) > MAX_KEYS_BY_PRECISION[precision]:
        raise FormatError(f"bin key {max(ranked)} is out of range")
    return precision, split, ranked, offset


def check_unary_length(unary_length, left, count, bins, split):
    """Refuse a unary section that runs past the `left` bytes of its stream or cannot hold `count`
    codes: a code is at least 1 bit and at most ((bins - 1) >> split) + 1 bits. So a count the
    section cannot hold is refused before anything count-sized is allocated."""
    longest = ((bins - 1) >> split) + 1
    if unary_length > left or not count <= 8 * unary_length <= count * longest + 7:
        raise FormatError(f"a unary section of {unary_length} bytes cannot hold {count} bin codes")


def read_rank_sections(blob, offset, count, bins, split):
    """((start, end) of the unary section, (start, end) of the low bits or None, where the offsets
    start) of a dense stream of `count` values in several `bins`, whose header ends at `offset`,
    checked: the unary section can hold the codes (`check_unary_length`) and the low bits lie
    within the stream. Every reader of a dense stream (fast, batched, anatomy) finds them here."""
    unary_length, offset = read_varint(blob, offset)
    check_unary_length(unary_length, len(blob) - offset, count, bins, split)
    unary, offset = (offset, offset + unary_length), offset + unary_length
    if not split:
        return unary, None, offset
    low_length = (count * split + 7) // 8
    if low_length > len(blob) - offset:
        raise FormatError("the low bits of the bin ranks run past the stream")
    return unary, (offset, offset + low_length), offset + low_length


def read_sparse_count(blob, offset, count):
    """(N, offset of its zero runs) of a sparse stream whose mode byte is at `offset`, checked."""
    check_count(count)
    if blob[offset] != SPARSE:
        raise FormatError(f"unknown bins mode {blob[offset]}")
    nonzero, offset = read_varint(blob, offset + 1)
    if nonzero > count:
        raise FormatError(f"{nonzero} non-zero values in a stream of {count}")
    return nonzero, offset


def sparse_positions(runs, values, count):
    """(positions, values) of the non-zero values from a sparse stream's N + 1 zero runs and N
    values minus one, checked against `count`. Both arrays are the decoder's own and are written
    over: the positions take the runs' place, the values become themselves plus one."""
    return sparse_positions_of_many([(runs, values, count)])[0]


def sparse_positions_of_many(streams):
    """`sparse_positions` of many sparse streams [(runs, values, count)] at once: [(positions,
    values)], the values of several streams laid out in one new array."""
    values = streams[0][1] if len(streams) == 1 else np.concatenate([s[1] for s in streams])
    if values.size and int(values.max()) == MASK64:
        raise FormatError("a non-zero value of 2**64 (stored as 2**64 - 1) does not fit 64 bits")
    values += _U64(1)
    firsts = accumulate((s[1].size for s in streams), initial=0)
    return positions_of_many_runs([(runs, values[first:first + nonzero.size], count)
                                   for (runs, nonzero, count), first in zip(streams, firsts)])
