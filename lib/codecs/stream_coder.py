"""A block's integer streams, and the two ways to write them: one interface, two coders.

A codec that has several streams of unsigned integers to store (timestamps: grid steps and jitter)
hands them to a `StreamCoder`: byte planes through a compressor (lib/codecs/byte_planes.py) or the
bins entropy coder (lib/codecs/bins/). Mostly-zero streams are often cheaper as the runs of zeros
between their non-zero values; `zero_runs` and `positions_of_runs` convert both ways.
"""
from itertools import accumulate

import numpy as np

from lib.codecs.limits import slices
from lib.errors import FormatError

_U64 = np.uint64


class StreamCoder:
    """How the integer streams of a block are written: byte planes through a compressor (the
    default) or bins (lib/codecs/bins/). `write(list of uint64 arrays) -> bytes`,
    `read(blob, counts, offset) -> (list of arrays, end offset)` and `read_compact`, the same
    with each stream in the smaller of its two forms (`compact`), for coders that store
    mostly-zero streams as their non-zero values (by default it is worked out from `read`)."""

    def __init__(self, write, read, read_compact=None):
        self.write, self.read = write, read
        self.read_compact = read_compact or self._compact_from_read

    def _compact_from_read(self, blob, counts, offset=0):
        streams, offset = self.read(blob, counts, offset)
        return [compact(stream, stream.size) for stream in streams], offset


def compact(stream, count):
    """A decoded stream of `count` entries in the smaller of its two forms: (positions, values)
    of its non-zero entries when at most half of them are non-zero (the steps and jitter of
    regular scrapes), else the array of all `count`. `stream` is either form and is the
    caller's to give away. Never more than one array of `count`, whatever the stream holds:
    [0, 7, 0, 0] -> ([1], [7]); [0, 7, 9] -> [0, 7, 9]."""
    if isinstance(stream, tuple):
        return stream if 2 * stream[0].size <= count else dense_of(stream, count)
    return nonzero_of(stream) if 2 * np.count_nonzero(stream) <= count else stream


def dense_of(stream, count):
    """The array of all `count` entries of a stream in either form: ([1], [7]), 4 -> [0, 7, 0, 0];
    an array is returned as it is."""
    if not isinstance(stream, tuple):
        return stream
    positions, values = stream
    dense = np.zeros(count, dtype=_U64)
    dense[positions] = values
    return dense


def nonzero_of(stream):
    """(positions, values) of the non-zero entries: [0, 7, 0, 9] -> ([1, 3], [7, 9]). The stream is
    the caller's to give away: when most entries are non-zero, their values are moved to its front
    (a slice at a time) instead of copied, so a long stream never costs a second copy of itself."""
    positions = np.flatnonzero(stream)
    if 2 * positions.size <= stream.size:
        return positions, stream[positions]
    for start, end in slices(positions.size):
        stream[start:end] = stream[positions[start:end]]  # positions[i] >= i: nothing is overwritten unread
    return positions, stream[:positions.size]


def nonzero_slices(stream):
    """The (positions, values) of a stream's non-zero entries, a slice at a time, for a stream in
    either `compact` form: [0, 7, 0, 9] -> ([1, 3], [7, 9]) (in one slice)."""
    if isinstance(stream, tuple):
        positions, values = stream
        for start, end in slices(positions.size):
            yield positions[start:end], values[start:end]
        return
    for start, end in slices(stream.size):
        part = stream[start:end]
        positions = np.flatnonzero(part)
        yield positions + start, part[positions]


def zero_runs(positions, count):
    """Zeros before each non-zero position and after the last: positions [1, 2] of 5 -> [1, 0, 2]."""
    bounds = np.concatenate(([-1], positions, [count]))
    return (bounds[1:] - bounds[:-1] - 1).astype(_U64)


def positions_of_runs(runs, nonzero, count):
    """Inverse of `zero_runs`, with the non-zero values: (positions, values) of the N values from
    the N + 1 runs, checked against `count`: runs [1, 0, 2], values [7, 9] -> ([1, 2], [7, 9]). The
    positions are written over the runs (the decoder's own array): no second array of them."""
    return positions_of_many_runs([(runs, nonzero, count)])[0]


def positions_of_many_runs(streams):
    """`positions_of_runs` of many streams [(runs, nonzero, count)] at once: [(positions, values)].

    The runs of all streams lie end to end and one running sum of run + 1 over all of them gives
    every position plus one; a stream's first run is lowered by what the stream before it adds up
    to (its runs and values make its count, so it adds count + 1), so that the sum restarts
    there. Example: runs [1, 0, 2] (count 5) and [0, 1] (count 2): run + 1 is
    [2, 1, 3, 1, 2] -> [2, 1, 3, -5, 2], running sums [2, 3, 6, 1, 3], positions [1, 2] and [0].
    A lone stream's runs are written over, several streams' laid out in a new array."""
    runs = streams[0][0] if len(streams) == 1 else np.concatenate([s[0] for s in streams])
    firsts = list(accumulate((s[0].size for s in streams[:-1]), initial=0))
    counts = [s[2] for s in streams]
    longest = np.maximum.reduceat(runs, firsts).tolist()  # each stream has N + 1 >= 1 runs
    for run, count in zip(longest, counts):
        if run > count:
            raise FormatError(f"a run of {run} zeros in a block of {count}")
    totals = np.add.reduceat(runs, firsts).tolist()  # each run is at most its count: no sum wraps
    for total, (_, nonzero, count) in zip(totals, streams):
        if total + nonzero.size != count:
            raise FormatError(f"zero runs and values make {total + nonzero.size} entries, not {count}")
    positions = runs.view(np.int64)  # the same numbers: each run is at most count
    positions += 1
    if len(streams) > 1:
        positions[firsts[1:]] -= np.array(counts[:-1], dtype=np.int64) + 1
    np.cumsum(positions, out=positions)
    positions -= 1
    return [(positions[first:first + values.size], values) for first, (_, values, _) in zip(firsts, streams)]
