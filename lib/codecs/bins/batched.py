"""Decode the bins streams of many blocks in one numpy pass.

Reading a block stream by stream (lib/codecs/bins/fast.py's `decode_bins`) costs a few dozen numpy calls
per stream, and for short streams (the zero runs of a timestamp block, the blocks of a short
series) numpy's fixed cost per call, not the work per value, is what the time goes on. So a
whole-file read decodes every block's k-th stream together:

- each block's decoder is a generator that parses its headers in Python and, when it needs a bins
  stream, yields a request (blob, offset, count) and receives (values, end offset);
- `drive` runs all the generators in lockstep: it collects one request from each, decodes all of
  them with `decode_dense_streams`, and sends each its own result, until every generator returns.
  A sparse stream's zero runs and values come back the same way, and then the decoder asks for
  their positions (a SparseRuns request), which are worked out for all sparse streams at once.

`decode_dense_streams` concatenates the requested streams' sections and works on the whole batch
at once: one `np.unpackbits` and one `np.flatnonzero` find every unary code of every stream, the
bin tables of all streams sit in one table (each stream's ranks offset to its own rows), one
cumulative sum gives the offset fields' bit positions in the concatenated offset sections.
Example: two streams of 2 and 3 values with unary sections 0x60 (01 1 -> ranks 1, 0) and 0xE0
(1 1 1 -> ranks 0, 0, 0) become the bits 0110 0000 1110 0000; their one bits are at 1, 2, 8, 9,
10, and the ranks are the gaps before them, counted from each stream's first bit (0 and 8).

Streams of BATCH_BELOW values or more have paid numpy's fixed cost off: they, and the rare ones
with offsets too wide for one 8-byte window, go through the one-stream decoder instead (one long
array is not faster than several cache-sized ones); the others are decoded in groups of at most
half a slice of values (`cache_groups`), whose arrays stay in the CPU's cache. Every check of the
one-stream decoder is made here too, for the whole batch at once; a damaged stream raises
FormatError (the caller can then decode block by block to name the block).
"""
from collections import namedtuple
from itertools import accumulate, chain

import numpy as np

from lib.bitstream.packing import SHORT_FIELD_BITS, padded_for_short_fields, read_short_fields
from lib.codecs.bins.fast import KEY_SPAN, fold_bits, read_dense_sections, unpack_low_bits
from lib.codecs.bins.layout import (
    BIN_TABLES, DENSE, MAX_SPLIT, read_header_fields, read_rank_sections, read_sparse_count,
    sparse_positions_of_many,
)
from lib.codecs.limits import cache_groups
from lib.codecs.stream_coder import dense_of
from lib.errors import FormatError

_U64 = np.uint64


def drive(decoders):
    """Run generator decoders in lockstep, decoding each round's bins requests together.

    A decoder yields (blob, offset, count) for a dense bins stream and is sent (values, end
    offset), or a SparseRuns and is sent (positions, values); what it returns is its result.
    Returns the results in the decoders' order."""
    results = [None] * len(decoders)
    pending = {}
    for number, decoder in enumerate(decoders):
        _advance(decoder, None, number, pending, results)
    while pending:
        numbers = list(pending)
        answers = _answer([pending[number] for number in numbers])
        pending = {}
        for number, answer in zip(numbers, answers):
            _advance(decoders[number], answer, number, pending, results)
    return results


def _answer(requests):
    """The answers to one round of requests: dense bins streams decoded together, and the
    positions of sparse streams (SparseRuns) computed together, a cache-sized group at a time."""
    answers = [None] * len(requests)
    sparse = [n for n, request in enumerate(requests) if isinstance(request, SparseRuns)]
    if not sparse:
        return decode_dense_streams(requests)
    dense = [n for n, request in enumerate(requests) if not isinstance(request, SparseRuns)]
    for n, answer in zip(dense, decode_dense_streams([requests[n] for n in dense])):
        answers[n] = answer
    for group in cache_groups([requests[n].runs.size for n in sparse]):
        numbers = [sparse[i] for i in group]
        for n, answer in zip(numbers, sparse_positions_of_many([requests[n] for n in numbers])):
            answers[n] = answer
    return answers


def _advance(decoder, answer, number, pending, results):
    try:
        pending[number] = decoder.send(answer)
    except StopIteration as stop:
        results[number] = stop.value


def finished(value):
    """A decoder that needs no bins stream: it returns `value` at once (the `yield` below is never
    reached; it only makes this function a generator)."""
    return value
    yield


def finish_results(results, kind, finish):
    """Replace the results that are `kind` (parts a decoder returned) by what `finish` makes of all
    of them at once; the others are final already."""
    numbers = [n for n, result in enumerate(results) if isinstance(result, kind)]
    for n, finished_result in zip(numbers, finish([results[n] for n in numbers])):
        results[n] = finished_result
    return results


def bins_stream(blob, offset, count):
    """Decoder of one bins stream, dense or sparse: returns (values, end offset), as `decode_bins`."""
    stream, offset = yield from bins_stream_parts(blob, offset, count)
    return dense_of(stream, count), offset


def bins_stream_parts(blob, offset, count):
    """Decoder of one bins stream as it is stored, (stream, end offset), as `decode_bins_parts`."""
    if offset >= len(blob):
        raise FormatError("bins stream is truncated")
    mode = blob[offset]
    if mode == DENSE:
        return (yield (blob, offset + 1, count))
    nonzero, offset = read_sparse_count(blob, offset, count)
    runs, offset = yield (blob, offset, nonzero + 1)
    values, offset = yield (blob, offset, nonzero)
    return (yield SparseRuns(runs, values, count)), offset


SparseRuns = namedtuple("SparseRuns", "runs values count")
SparseRuns.__doc__ = """A decoder's request for the (positions, values) of a sparse stream, from its
zero runs and values minus one (lib.codecs.bins.layout.sparse_positions): drive answers those of
all decoders together."""


def _padded_table(values):
    """One row per (precision, key) pair: row precision * KEY_SPAN + key."""
    return np.concatenate([np.pad(table, (0, KEY_SPAN - table.size)) for table in values])


ALL_LOWERS = _padded_table([lowers for lowers, _ in BIN_TABLES]).astype(_U64)
ALL_WIDTHS = _padded_table([widths for _, widths in BIN_TABLES]).astype(np.int64)
ALL_SHIFTS = (63 - ALL_WIDTHS).astype(_U64)  # read_short_fields' shift for each row's width
_WIDTH_LISTS = [widths.tolist() for _, widths in BIN_TABLES]


class _Stream:
    """One dense stream's header, as parsed in Python."""
    __slots__ = ("blob", "count", "precision", "ranked", "first_code", "widest", "split", "unary", "low",
                 "header_end", "offsets_at", "end", "number")


def _parse_header(blob, offset, count):
    """A dense stream's header and the places of its sections (the offset section's length waits
    for the ranks). The checks are those of lib.codecs.bins.fast.read_dense. A value's row in
    ALL_LOWERS and its kin is precision * KEY_SPAN plus the key of its rank (`ranked`), the rank being its code
    (lib.codecs.bins.layout.code_tables) less `first_code`."""
    precision, split, ranked, offset = read_header_fields(blob, offset, count)
    stream = _Stream()
    stream.blob, stream.count, stream.split, stream.ranked = blob, count, split, ranked
    stream.precision, stream.header_end = precision, offset
    stream.unary = stream.low = None
    stream.widest = _WIDTH_LISTS[precision][max(ranked)] if ranked else 0  # widths grow with the key
    several = count and len(ranked) > 1
    stream.first_code = 1 << split if several else 1
    if several:
        stream.unary, stream.low, offset = read_rank_sections(blob, offset, count, len(ranked), split)
    stream.offsets_at = stream.end = offset
    return stream


BATCH_BELOW = 4096  # streams of at least this many values decode on their own: numpy's fixed cost is paid off


def decode_dense_streams(requests):
    """[(blob, offset, count)] of dense bins streams -> [(uint64 values, end offset)].

    Short streams are decoded all at once, a group at a time (`cache_groups`); long ones,
    and the rare ones with offsets wider than SHORT_FIELD_BITS, one by one with
    lib.codecs.bins.fast's decoder; a stream of one bin without offset bits at once."""
    results = [None] * len(requests)
    batch = []
    for number, (blob, offset, count) in enumerate(requests):
        stream = _parse_header(blob, offset, count)
        if not count:
            results[number] = (np.zeros(0, dtype=_U64), stream.end)
        elif count >= BATCH_BELOW or stream.widest > SHORT_FIELD_BITS:
            results[number] = read_dense_sections(blob, stream.header_end, count, stream.precision, stream.split,
                                                  stream.ranked)
        elif stream.unary is None and not stream.widest:
            lower = ALL_LOWERS[stream.precision * KEY_SPAN + stream.ranked[0]]
            results[number] = (np.full(count, lower, dtype=_U64), stream.end)
        else:
            stream.number = number
            batch.append(stream)
    for group in cache_groups([stream.count for stream in batch]):
        for stream, values in _decode_batch([batch[n] for n in group]):
            results[stream.number] = (values, stream.end)
    return results


def _decode_batch(streams):
    """[(stream, its values)] of dense streams (each of at least one value, offsets of at most
    SHORT_FIELD_BITS bits), in an order of their own: every value's row in `table`, the rows of
    the streams' ranked bin keys laid end to end, then its offset field."""
    # Streams with several bins first, by rank split: their codes are then one slice per split.
    streams = sorted(streams, key=lambda s: (s.unary is None, s.split))
    counts = [s.count for s in streams]
    firsts = list(accumulate(counts, initial=0))
    bins = [len(s.ranked) for s in streams]
    table_starts = list(accumulate(bins, initial=0))
    table = np.array(list(chain.from_iterable(s.ranked for s in streams)), dtype=np.int64)
    table += np.repeat(np.array([s.precision * KEY_SPAN for s in streams], dtype=np.int64), bins)
    # A value's row in `table`: its stream's first row plus its rank, its code less first_code.
    first_rows = [start - s.first_code for start, s in zip(table_starts, streams)]
    rows = np.repeat(np.array(first_rows, dtype=np.int64), counts)
    ranked = sum(s.unary is not None for s in streams)
    if ranked:
        codes = np.empty(firsts[ranked], dtype=np.int64)
        _codes(streams[:ranked], firsts[:ranked + 1], codes)
        rows[:firsts[ranked]] += codes
    if ranked < len(streams):  # one bin each: code 1
        rows[firsts[ranked]:] += 1
    value_widths = ALL_WIDTHS[table][rows]
    starts = np.array(firsts[:-1], dtype=np.int64)
    totals = np.add.reduceat(value_widths, starts).tolist()  # bits of each stream's offset section
    sections, padding = [], []
    for s, total in zip(streams, totals):
        length = (total + 7) >> 3
        if length > len(s.blob) - s.offsets_at:
            raise FormatError(f"offset bits need {length} bytes, {len(s.blob) - s.offsets_at} left")
        sections.append(s.blob[s.offsets_at:s.offsets_at + length])
        padding.append(8 * length - total)
        s.end = s.offsets_at + length
    # Every field's bit position in the sections laid end to end: the widths before it, plus the
    # padding at the end of each stream's section before it.
    field_starts = np.empty_like(value_widths)
    field_starts[0] = 0
    field_starts[1:] = value_widths[:-1]
    field_starts[starts[1:]] += np.array(padding[:-1], dtype=np.int64)
    np.cumsum(field_starts, out=field_starts)
    padded = padded_for_short_fields(b"".join(sections))
    values = read_short_fields(padded, field_starts, ALL_SHIFTS[table][rows])
    values |= ALL_LOWERS[table][rows]
    return [(s, values[first:first + s.count]) for s, first in zip(streams, firsts)]


def _codes(streams, firsts, codes):
    """Write the codes (lib.codecs.bins.layout.code_tables) of the values of streams with several
    bins, stream after stream, into `codes`, checked: each unary section holds one code per value
    and nothing after the last, and no code lies beyond its stream's table."""
    unary_starts = list(accumulate((s.unary[1] - s.unary[0] for s in streams), initial=0))
    unary = b"".join(s.blob[s.unary[0]:s.unary[1]] for s in streams)
    bits = np.unpackbits(np.frombuffer(unary, np.uint8)).view(bool)
    if np.count_nonzero(bits) != firsts[-1]:  # before np.flatnonzero allocates a position per one bit
        raise FormatError("a unary section does not hold one bin code per value")
    ends = np.flatnonzero(bits)
    bit_starts = np.array(unary_starts, dtype=np.int64) * 8
    if np.searchsorted(ends, bit_starts).tolist() != firsts:
        raise FormatError("a unary section does not hold one bin code per value")
    if (ends[np.array(firsts[1:]) - 1] // 8).tolist() != [start - 1 for start in unary_starts[1:]]:
        raise FormatError("a unary section has bytes after its last bin code")
    np.subtract(ends[1:], ends[:-1], out=codes[1:])  # a unary code's length is the gap between ends
    starts = np.array(firsts[:-1], dtype=np.int64)
    codes[starts] = ends[starts] - bit_starts[:-1] + 1
    for split in range(1, MAX_SPLIT + 1):
        group = [n for n, s in enumerate(streams) if s.split == split]
        if group:
            part = codes[firsts[group[0]]:firsts[group[-1] + 1]]
            part <<= split
            part |= _low_bits([streams[n] for n in group], split)
    if (np.maximum.reduceat(codes, starts) >= [s.first_code + len(s.ranked) for s in streams]).any():
        raise FormatError("a bin rank beyond its stream's bins")


def _low_bits(streams, split):
    """The low `split` bits of every rank of these streams (all of that split), in order, as uint8
    (lib.codecs.bins.fast.unpack_low_bits of their sections laid end to end): each stream's
    section is whole bytes, so the padding bits at its end are dropped (for 1 and 2 bits a
    field, whole fields)."""
    sections = [s.blob[s.low[0]:s.low[1]] for s in streams]
    data = b"".join(sections)
    keep, end = None, 0
    for section, s in zip(sections, streams):
        end += 8 * len(section)
        padding = 8 * len(section) - split * s.count
        if padding:
            keep = np.ones(8 * len(data), dtype=bool) if keep is None else keep
            keep[end - padding:end] = False
    if split < 3:
        low = unpack_low_bits(data, 8 * len(data) // split, split)
        return low if keep is None else low[keep[::split]]
    bits = np.unpackbits(np.frombuffer(data, np.uint8))
    return fold_bits(bits if keep is None else bits[keep], split)
