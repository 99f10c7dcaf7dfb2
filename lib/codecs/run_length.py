"""Run-length encoding: a constant stretch becomes one (value, count) pair.

[7, 7, 7, 2, 2] -> values [7, 2], lengths [3, 2]. A gauge that holds still for an hour of 15 s
scrapes is then one pair instead of 240 values. Floats are compared by their 64-bit patterns, so
a run of NaN stays one run and -0.0 never merges with 0.0; decoding gives back the exact patterns.

The decoder raises `FormatError` for lengths that do not describe the expected values.
"""
import numpy as np

from lib.errors import FormatError


def _comparable(values):
    """Floats compare by bit pattern, so NaN runs and -0.0 versus 0.0 are handled exactly."""
    if values.dtype.kind == "f":
        return values.view(np.dtype(f"u{values.dtype.itemsize}"))
    return values


def run_length_encode(values):
    """Return (run_values, run_lengths): [7, 7, 7, 2, 2] -> ([7, 2], [3, 2])."""
    values = np.ascontiguousarray(values)
    if values.size == 0:
        return values[:0].copy(), np.zeros(0, dtype=np.int64)
    keys = _comparable(values)
    run_starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    run_lengths = np.diff(np.append(run_starts, values.size))
    return values[run_starts], run_lengths.astype(np.int64)


def run_length_decode(run_values, run_lengths, expected_count=None):
    """Inverse of `run_length_encode`: repeat each value by its run length.

    Pass `expected_count` when the lengths come from untrusted bytes: a damaged length is then
    refused before it can make numpy allocate a huge array.
    """
    run_values = np.ascontiguousarray(run_values)
    run_lengths = np.ascontiguousarray(run_lengths, dtype=np.int64)
    if run_values.shape != run_lengths.shape:
        raise FormatError(f"{run_values.size} run values but {run_lengths.size} run lengths")
    if run_lengths.size and run_lengths.min() < 1:
        raise FormatError("run lengths must be positive")
    if expected_count is not None:
        if run_lengths.size and run_lengths.max() > expected_count:
            raise FormatError(f"a run of {run_lengths.max()} values exceeds the expected {expected_count}")
        total = int(run_lengths.sum())  # every length is bounded, so this cannot overflow
        if total != expected_count:
            raise FormatError(f"runs add up to {total} values, expected {expected_count}")
    return np.repeat(run_values, run_lengths)
