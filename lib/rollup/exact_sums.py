"""Exact sums: every bucket's sum added without rounding, so coarser levels match raw bit for bit.

Float addition is not associative, so "sum of the minute sums" would differ from "sum of the raw
points" in the last bits: left to right, 1e16 + 1 + 1 - 1e16 gives 0.0 in float64 (1e16 + 1 rounds
back to 1e16), the exact total is 2. Instead every sum (gauge sum, counter increase) is accumulated
exactly: each float is an integer mantissa times a power of two, so all of a series' values are
integers in units of 2**e0 (e0 = the smallest exponent among them), which are added exactly in int64
"limbs" of 32 bits each (a superaccumulator). Example: 1.0 is 2**52 units of 2**-52 (its 53-bit
mantissa), the smallest exponent here, so 1e16 + 1 + 1 - 1e16 becomes the integer sum
2**52 * (10**16 + 1 + 1 - 10**16) = 2**53 units, exactly 2.0.

The stored `sum` is that exact total rounded once to float64 (correctly rounded, as `math.fsum`
would give). The limbs travel with the roll-up in memory (`Rollup.exact`) so the next coarser level
adds the limbs, not the rounded floats: fine -> coarse is bit-identical to raw -> coarse. The number
of limbs per bucket follows the series' exponent range: about 4 for everyday metrics, 67 for values
spread from 1e-300 to 1e300 (all levels of 1M such points still take under 3 s). A file that keeps
only the float64 `sum` can still answer queries (`restore_exact_sums`), but re-rolling it up would
round once per level.
"""
from dataclasses import dataclass, replace

import numpy as np

from lib.rollup.kinds import GAUGE

_LIMB_BITS = 32
_LIMB_MASK = (1 << _LIMB_BITS) - 1
# A value's 53-bit mantissa shifted by up to 31 bits touches 3 limbs; 2 more absorb carries.
_LIMB_SPREAD = 3
_LIMB_HEADROOM = 2


@dataclass
class ExactSum:
    """The exact value of each bucket's `sum` (gauge) or `increase` (counter):
    sum(limbs[b, k] * 2**(32*k)) * 2**exponent, limbs int64[B, L], exponent per series.

    In memory only; it lets coarser levels add exact totals instead of rounded floats.
    """

    limbs: np.ndarray
    exponent: int


def exact_sums(values, sid, group, n_groups, group_series, n_series):
    """Exact per-group sums of finite `values`, as (limbs int64[G, L], exponent int64[G]).

    value = m * 2**e with an integer |m| < 2**53. With e0 the smallest e of the series, the value is
    the integer m * 2**(e - e0) in units of 2**e0, split into 32-bit limbs and added in int64: each
    limb receives less than 2**33 per value, so 2**30 values per bucket cannot overflow.
    """
    mantissa, exponent = np.frexp(values)
    m = np.ldexp(mantissa, 53).astype(np.int64)
    e = exponent.astype(np.int64) - 53
    nonzero = m != 0
    series_e0 = np.full(n_series, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(series_e0, sid[nonzero], e[nonzero])
    series_e0[series_e0 == np.iinfo(np.int64).max] = 0
    shift = np.where(nonzero, e - series_e0[sid], 0)
    limb, within = shift >> 5, shift & 31
    width = (int(limb.max()) if len(limb) else 0) + _LIMB_SPREAD + _LIMB_HEADROOM
    sign = np.sign(m)
    magnitude = np.abs(m)
    low = (magnitude & _LIMB_MASK) << within
    high = (magnitude >> _LIMB_BITS) << within
    accumulator = np.zeros(n_groups * width, dtype=np.int64)
    cell = group * width + limb
    np.add.at(accumulator, cell, sign * (low & _LIMB_MASK))
    np.add.at(accumulator, cell + 1, sign * ((low >> _LIMB_BITS) + (high & _LIMB_MASK)))
    np.add.at(accumulator, cell + 2, sign * (high >> _LIMB_BITS))
    limbs = normalize(accumulator.reshape(n_groups, width))
    return limbs, series_e0[group_series]


def normalize(limbs):
    """Canonical form: every limb but the top one in [0, 2**32); the top one carries the sign.
    Example: limbs [-1, 1] (= -1 + 2**32) become [2**32 - 1, 0]."""
    limbs = limbs.copy()
    for k in range(limbs.shape[1] - 1):
        carry = limbs[:, k] >> _LIMB_BITS
        limbs[:, k] -= carry << _LIMB_BITS
        limbs[:, k + 1] += carry
    return limbs


def limbs_to_float(limbs, exponent):
    """Round each exact sum to the nearest float64 (ties to even), exactly once.

    The top 64 significant bits go into a uint64 whose lowest bit is forced to 1 if any bit below
    was set ("round to odd"); converting that to float64 then rounds exactly as the full number
    would. Example: 2**100 + 2**47 + 2**-20 is just above halfway between 2**100 and the next float;
    its top 64 bits alone read as exactly halfway (a tie, rounded down to even), the forced low bit
    makes them just above it, so the conversion rounds up to 2**100 + 2**48, as the full number must.
    Results in the subnormal range are exact (all inputs are multiples of 2**-1074).
    """
    n_rows, width = limbs.shape
    negative = limbs[:, -1] < 0 if width else np.zeros(n_rows, bool)
    magnitude = normalize(np.where(negative[:, None], -limbs, limbs))
    nonzero = magnitude != 0
    any_bits = nonzero.any(axis=1)
    top = width - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    padded = np.zeros((n_rows, width + 2), dtype=np.int64)
    padded[:, 2:] = magnitude
    rows = np.arange(n_rows)
    a2 = padded[rows, top + 2].astype(np.uint64)
    a1 = padded[rows, top + 1].astype(np.uint64)
    a0 = padded[rows, top].astype(np.uint64)
    below = np.cumsum(nonzero, axis=1)
    sticky = np.where(top >= 3, below[rows, np.maximum(top - 3, 0)], 0) > 0
    bit_length = np.frexp(a2.astype(np.float64))[1].astype(np.uint64)
    shift = np.uint64(32) - bit_length
    cut = np.uint64(32) - shift
    lost = a0 & ((np.uint64(1) << cut) - np.uint64(1))
    top64 = (a2 << (np.uint64(32) + shift)) | (a1 << shift) | (a0 >> cut)
    top64 |= (sticky | (lost != 0)).astype(np.uint64)
    scale = _LIMB_BITS * (top - 1) - shift.astype(np.int64) + exponent
    with np.errstate(over="ignore"):
        result = np.ldexp(top64.astype(np.float64), scale.astype(np.int32))
    result = np.where(any_bits, result, 0.0)
    return np.where(negative, -result, result)


def restore_exact_sums(rollup):
    """Rebuild the in-memory exact sums of a roll-up read back from a file.

    A file keeps only the rounded float64 `sum` (gauge) or `increase` (counter) per bucket. Taking
    each stored float as an exact value gives limbs again, so queries can merge buckets: the merged
    total is the correctly rounded sum of the stored bucket totals.
    """
    stored = rollup.fields["sum" if rollup.kind == GAUGE else "increase"]
    n = len(stored)
    zeros = np.zeros(n, dtype=np.int64)
    finite = np.where(np.isfinite(stored), stored, 0.0)
    limbs, exponent = exact_sums(finite, zeros, np.arange(n), n, zeros, 1)
    return replace(rollup, exact=ExactSum(limbs, int(exponent[0]) if n else 0))
