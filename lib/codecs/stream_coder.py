"""A block's integer streams, and the two ways to write them: one interface, two coders.

A codec that has several streams of unsigned integers to store (timestamps: grid steps and jitter)
hands them to a `StreamCoder`: byte planes through a compressor (lib/codecs/byte_planes.py) or the
bins entropy coder (lib/codecs/bins.py). Mostly-zero streams are often cheaper as the runs of zeros
between their non-zero values; `zero_runs` and `scatter_runs` convert both ways.
"""
import numpy as np

from lib.errors import FormatError

_U64 = np.uint64


class StreamCoder:
    """How the integer streams of a block are written: byte planes through a compressor (the
    default) or bins (lib/codecs/bins.py). `write(list of uint64 arrays) -> bytes`,
    `read(blob, counts, offset) -> (list of arrays, end offset)` and `read_nonzero`, the same
    with each stream as (positions, values) of its non-zero values, for coders that store
    mostly-zero streams that way (by default it is worked out from `read`)."""

    def __init__(self, write, read, read_nonzero=None):
        self.write, self.read = write, read
        self.read_nonzero = read_nonzero or self._nonzero_from_read

    def _nonzero_from_read(self, blob, counts, offset=0):
        streams, offset = self.read(blob, counts, offset)
        return [nonzero_of(stream) for stream in streams], offset


def nonzero_of(stream):
    """(positions, values) of the non-zero entries: [0, 7, 0, 9] -> ([1, 3], [7, 9])."""
    positions = np.flatnonzero(stream)
    return positions, stream[positions]


def zero_runs(positions, count):
    """Zeros before each non-zero position and after the last: positions [1, 2] of 5 -> [1, 0, 2]."""
    bounds = np.concatenate(([-1], positions, [count]))
    return (bounds[1:] - bounds[:-1] - 1).astype(_U64)


def scatter_runs(runs, nonzero, count):
    """Inverse of `zero_runs` plus the non-zero values: runs [1, 0, 2], values [7, 9] -> [0, 7, 9, 0, 0]."""
    if runs.size and int(runs.max()) > count:
        raise FormatError(f"a run of {int(runs.max())} zeros in a block of {count}")
    if int(runs.sum()) + nonzero.size != count:
        raise FormatError(f"zero runs and values make {int(runs.sum()) + nonzero.size} entries, not {count}")
    positions = np.cumsum(runs[:-1].astype(np.int64) + 1) - 1
    out = np.zeros(count, dtype=_U64)
    out[positions] = nonzero
    return out
