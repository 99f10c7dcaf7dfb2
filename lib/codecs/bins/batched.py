"""Decode the bins streams of many blocks in one numpy pass.

Reading a block stream by stream (lib/codecs/bins/fast.py's `decode_bins`) costs a few dozen numpy calls
per stream, and for short streams (the zero runs of a timestamp block, the blocks of a short
series) numpy's fixed cost per call, not the work per value, is what the time goes on. So a
whole-file read decodes every block's k-th stream together:

- each block's decoder is a generator that parses its headers in Python and, when it needs a bins
  stream, yields a request (blob, offset, count) and receives (values, end offset);
- `drive` runs all the generators in lockstep: it collects one request from each, decodes all of
  them with `decode_dense_streams`, and sends each its own result, until every generator returns.

`decode_dense_streams` concatenates the requested streams' sections and works on the whole batch
at once: one `np.unpackbits` and one `np.flatnonzero` find every unary code of every stream, the
bin tables of all streams sit in one table (each stream's ranks offset to its own rows), one
cumulative sum gives the offset fields' bit positions in the concatenated offset sections.
Example: two streams of 2 and 3 values with unary sections 0x60 (01 1 -> ranks 1, 0) and 0xE0
(1 1 1 -> ranks 0, 0, 0) become the bits 0110 0000 1110 0000; their one bits are at 1, 2, 8, 9,
10, and the ranks are the gaps before them, counted from each stream's first bit (0 and 8).

Streams of BATCH_BELOW values or more have paid numpy's fixed cost off: they, and the rare ones
with offsets too wide for one 8-byte window, go through the one-stream decoder instead (one long
array is not faster than several cache-sized ones). Every check of the one-stream decoder is made
here too, for the whole batch at once; a damaged stream raises FormatError (the caller can then
decode block by block to name the block).
"""
import numpy as np

from lib.bitstream.packing import SHORT_FIELD_BITS, padded_for_short_fields, read_short_fields
from lib.codecs.bins.fast import KEY_SPAN, read_dense
from lib.codecs.bins.layout import (
    BIN_TABLES, DENSE, MAX_PRECISION, MAX_SPLIT, check_unary_length, read_header_fields, read_sparse_count,
    read_varint, sparse_positions,
)
from lib.codecs.limits import groups
from lib.codecs.stream_coder import nonzero_of
from lib.errors import FormatError

_U64 = np.uint64


def _padded_table(column):
    """One precision's table, padded to KEY_SPAN rows so that row precision * KEY_SPAN + key works."""
    return np.concatenate([np.pad(BIN_TABLES[p][column], (0, KEY_SPAN - BIN_TABLES[p][column].size))
                           for p in range(MAX_PRECISION + 1)])


ALL_LOWERS = _padded_table(0).astype(_U64)
ALL_WIDTHS = _padded_table(1).astype(np.int64)
ALL_SHIFTS = (63 - ALL_WIDTHS).astype(_U64)  # read_short_fields' shift for each row's width


def drive(decoders):
    """Run generator decoders in lockstep, decoding each round's bins requests together.

    A decoder yields (blob, offset, count) for a dense bins stream and is sent (values, end
    offset); what it returns is its result. Returns the results in the decoders' order."""
    results = [None] * len(decoders)
    pending = {}
    for number, decoder in enumerate(decoders):
        _advance(decoder, None, number, pending, results)
    while pending:
        numbers = list(pending)
        answers = decode_dense_streams([pending[number] for number in numbers])
        pending = {}
        for number, answer in zip(numbers, answers):
            _advance(decoders[number], answer, number, pending, results)
    return results


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
    if isinstance(stream, tuple):
        positions, values = stream
        stream = np.zeros(count, dtype=_U64)
        stream[positions] = values
    return stream, offset


def bins_stream_nonzero(blob, offset, count):
    """Decoder of one bins stream as (positions, values, end offset), as `decode_bins_nonzero`."""
    stream, offset = yield from bins_stream_parts(blob, offset, count)
    return (*(stream if isinstance(stream, tuple) else nonzero_of(stream)), offset)


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
    return sparse_positions(runs, values, count), offset


class _Stream:
    """One dense stream's header, as parsed in Python."""
    __slots__ = ("blob", "count", "rows", "bins", "split", "unary", "low", "offsets_at", "end", "wide", "number")


def _parse_header(blob, offset, count):
    """A dense stream's header and the places of its sections (the offset section's length waits
    for the ranks). The checks are those of lib.codecs.bins.fast.read_dense."""
    precision, split, ranked, offset = read_header_fields(blob, offset, count)
    bins = len(ranked)
    stream = _Stream()
    stream.blob, stream.count, stream.bins, stream.split = blob, count, bins, split
    stream.rows = [precision * KEY_SPAN + key for key in ranked]
    stream.wide = bool(ranked) and int(BIN_TABLES[precision][1][max(ranked)]) > SHORT_FIELD_BITS
    stream.unary = stream.low = None
    if count and bins > 1:
        unary_length, offset = read_varint(blob, offset)
        check_unary_length(unary_length, len(blob) - offset, count, bins, split)
        stream.unary = (offset, offset + unary_length)
        offset += unary_length
        if split:
            low_length = (count * split + 7) // 8
            if low_length > len(blob) - offset:
                raise FormatError("the low bits of the bin ranks run past the stream")
            stream.low = (offset, offset + low_length)
            offset += low_length
    stream.offsets_at = stream.end = offset
    return stream


BATCH_BELOW = 4096  # streams of at least this many values decode on their own: numpy's fixed cost is paid off


def decode_dense_streams(requests):
    """[(blob, offset, count)] of dense bins streams -> [(uint64 values, end offset)].

    Short streams are decoded all at once; long ones, and the rare ones with offsets wider than
    SHORT_FIELD_BITS, one by one with lib.codecs.bins.fast's decoder."""
    results = [None] * len(requests)
    batch = []
    for number, (blob, offset, count) in enumerate(requests):
        stream = _parse_header(blob, offset, count)
        if count >= BATCH_BELOW or stream.wide:
            results[number] = read_dense(blob, offset, count)
        elif not count:
            results[number] = (np.zeros(0, dtype=_U64), stream.end)
        else:
            stream.number = number
            batch.append(stream)
    for group in groups([stream.count for stream in batch]):
        for stream, values in _decode_batch([batch[n] for n in group]):
            results[stream.number] = (values, stream.end)
    return results


def _decode_batch(streams):
    """[(stream, its values)] of dense streams (each of at least one value, offsets of at most
    SHORT_FIELD_BITS bits), in an order of their own."""
    # Streams with several bins first, by rank split: their ranks are then one slice of the
    # element arrays per split.
    streams = sorted(streams, key=lambda s: (s.unary is None, s.split))
    counts = np.array([s.count for s in streams], dtype=np.int64)
    firsts = np.cumsum(counts) - counts
    table = np.array([row for s in streams for row in s.rows], dtype=np.int64)
    table_starts = np.cumsum([0] + [len(s.rows) for s in streams[:-1]])
    rows = np.repeat(table_starts, counts)
    ranked = [s for s in streams if s.unary is not None]
    if ranked:
        ranked_values = int(counts[:len(ranked)].sum())
        rows[:ranked_values] += _ranks(ranked, counts[:len(ranked)])
    value_widths = ALL_WIDTHS[table][rows]
    field_ends = np.cumsum(value_widths)
    lengths = (np.diff(field_ends[firsts + counts - 1], prepend=0) + 7) // 8
    sections, section_starts, position = [], [], 0
    for s, length in zip(streams, lengths.tolist()):
        if length > len(s.blob) - s.offsets_at:
            raise FormatError(f"offset bits need {length} bytes, {len(s.blob) - s.offsets_at} left")
        sections.append(s.blob[s.offsets_at:s.offsets_at + length])
        section_starts.append(position)
        s.end = s.offsets_at + length
        position += length
    # A field's bit position: its stream's section start plus the widths before it in its stream.
    field_ends -= value_widths
    field_ends += np.repeat(8 * np.array(section_starts, dtype=np.int64) - field_ends[firsts], counts)
    values = read_short_fields(padded_for_short_fields(b"".join(sections)), field_ends, ALL_SHIFTS[table][rows])
    values |= ALL_LOWERS[table][rows]
    return [(s, values[first:first + s.count]) for s, first in zip(streams, firsts.tolist())]


def _ranks(streams, counts):
    """The bin ranks of the elements of streams with several bins, stream after stream."""
    unary_starts = np.cumsum([0] + [s.unary[1] - s.unary[0] for s in streams])
    unary = b"".join(s.blob[s.unary[0]:s.unary[1]] for s in streams)
    bits = np.unpackbits(np.frombuffer(unary, np.uint8)).view(bool)
    if np.count_nonzero(bits) != counts.sum():  # before np.flatnonzero allocates a position per one bit
        raise FormatError("a unary section does not hold one bin code per value")
    ends = np.flatnonzero(bits)
    bit_starts = 8 * unary_starts
    found = np.diff(np.searchsorted(ends, bit_starts))
    if not np.array_equal(found, counts):
        raise FormatError("a unary section does not hold one bin code per value")
    lasts = np.cumsum(counts) - 1
    if not np.array_equal(ends[lasts] // 8, unary_starts[1:] - 1):
        raise FormatError("a unary section has bytes after its last bin code")
    ranks = np.empty_like(ends)
    ranks[0] = ends[0]
    np.subtract(ends[1:], ends[:-1] + 1, out=ranks[1:])
    ranks[lasts[:-1] + 1] = ends[lasts[:-1] + 1] - bit_starts[1:-1]
    for split in range(1, MAX_SPLIT + 1):
        group = [n for n, s in enumerate(streams) if s.split == split]
        if group:
            begin, end = int(lasts[group[0]] - counts[group[0]] + 1), int(lasts[group[-1]] + 1)
            ranks[begin:end] <<= split
            ranks[begin:end] |= _low_bits([streams[n] for n in group], split)
    if (np.maximum.reduceat(ranks, lasts - counts + 1) >= [s.bins for s in streams]).any():
        raise FormatError("a bin rank beyond its stream's bins")
    return ranks


def _low_bits(streams, split):
    """The low `split` bits of every rank of these streams (all of that split), in order: each
    stream's section is whole bytes, so the padding bits at its end are dropped."""
    sections = [s.blob[s.low[0]:s.low[1]] for s in streams]
    bits = np.unpackbits(np.frombuffer(b"".join(sections), np.uint8))
    padding = [8 * len(section) - split * s.count for section, s in zip(sections, streams)]
    if any(padding):
        ends = np.cumsum([8 * len(section) for section in sections])
        bits = np.delete(bits, np.concatenate([np.arange(end - pad, end) for end, pad in zip(ends, padding) if pad]))
    bits = bits.reshape(-1, split)
    low = bits[:, 0].copy()
    for column in range(1, split):
        low <<= 1
        low |= bits[:, column]
    return low
