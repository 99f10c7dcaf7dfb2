"""Decimal bins (tag 8, "decimal-bins"): decimal digits, and floats a few ULP from a decimal, as bins.

The default codec for decimals: the integers of lib/codecs/decimal_digits.py, transformed and
centred (lib/codecs/transforms.py), stored as a bins stream (lib/codecs/bins/).

Monitoring agents often compute a value (an average, a rate) and print it at full precision:
51.846000000000004 is the float right after 51.846, one unit in the last place (ULP) away. To the
decimal codec that is an exception costing 8 bytes. Here it is the decimal 51846 / 10**3 plus an
ADJUSTMENT of +1 step in the ordered integers of the floats, and the adjustments (mostly zero)
are a second bins stream. Values that no decimal comes within ADJUST_LIMIT steps of, NaN and
infinities stay exceptions.

A whole-file read decodes many blocks at once: `decimal_bins_decoder` asks for its bins streams
(lib/codecs/bins/batched.py) and returns its parts, and `finish_decimal_bins` does the arithmetic of
all blocks of one transform in whole arrays. docs/format.md, "Decimal bins (tag 8)", gives every byte.
"""
from collections import namedtuple

import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.bitstream.stream import MASK64
from lib.bitstream.varint import encode_varints, zigzag_decode_int, zigzag_encode
from lib.codecs.bins import decode_bins, decode_bins_parts, encode_bins
from lib.codecs.bins.batched import bins_stream, bins_stream_parts
from lib.codecs.decimal_digits import (
    ADJUST_COST_BITS, ADJUST_LIMIT, ADJUSTED, DIGIT_BITS, E_MAX, EXCEPTION_BITS, POWERS_OF_TEN,
    adjusted_with_exceptions, adjustment_bits, common_factor, decimal_rows, decimals_from_residuals,
    exponent_from_needs, fill_exceptions, ints_to_floats, read_decimal_head, read_exceptions, scale_and_round,
    smallest_exponents, spread_sample,
)
from lib.codecs.limits import cache_groups, check_count
from lib.codecs.transforms import (
    INVERSE, TRANSFORM_NAMES, float_steps, operate_per_block, ordered_integers, plan_for_bins, position_gaps,
    unzigzag_in_place,
)


def nearest_decimals(values, exponent):
    """(ints, adjustments, usable): rint(value * 10**e), the ordered-integer steps from ints / 10**e
    to the value, and where that is a usable pair (in range, within ADJUST_LIMIT steps)."""
    ints, in_range = scale_and_round(values, POWERS_OF_TEN[exponent])
    nearest = ints_to_floats(ints, exponent)
    if (nearest.view(np.uint64) == values.view(np.uint64)).all():  # all exact decimals: no steps to take
        return ints, np.zeros(values.size, dtype=np.int64), in_range
    adjustments = float_steps(values, nearest)
    usable = in_range & (np.abs(adjustments) < ADJUST_LIMIT)
    return ints, np.where(usable, adjustments, 0), usable


def choose_adjusted_exponent(values):
    """The exponent for DECIMAL_BINS: the plain decimal choice when every value fits exactly,
    otherwise the e with the lowest estimated cost on a sample, counting adjustments."""
    sample = spread_sample(values)
    smallest = smallest_exponents(sample)
    if (smallest <= E_MAX).all():
        return exponent_from_needs(smallest)
    return int(np.argmin(adjusted_exponent_costs(sample)))  # the first smallest: ties go to the smaller e


def adjusted_exponent_cost(sample, exponent):
    """Estimated bits of the sample as DECIMAL_BINS at this exponent: the digits, the exceptions,
    and the adjustments' (`adjustment_bits`)."""
    _, adjustments, usable = nearest_decimals(sample, exponent)
    return sample.size * DIGIT_BITS * exponent + (~usable).sum() * EXCEPTION_BITS + adjustment_bits(adjustments)


EXPONENTS = np.arange(E_MAX + 1)


def adjusted_exponent_costs(sample):
    """`adjusted_exponent_cost` at every exponent 0..E_MAX at once, one row of a 2-D array per
    exponent, with the same float operations in the same order (so the same numbers). A zero
    adjustment adds no bits, so the rows can sum over all values instead of the non-zero ones."""
    _, in_range, nearest = decimal_rows(sample)
    adjustments = ordered_integers(sample)[None, :] - ordered_integers(nearest)
    usable = in_range & (np.abs(adjustments) < ADJUST_LIMIT)
    adjustments = np.where(usable, adjustments, 0)
    return (sample.size * DIGIT_BITS * EXPONENTS + (~usable).sum(axis=1) * EXCEPTION_BITS
            + bit_lengths(zigzag_encode(adjustments)).sum(axis=1) + (adjustments != 0).sum(axis=1) * ADJUST_COST_BITS)


def encode_decimal_bins(values):
    """DECIMAL_BINS: u8 e, u8 transform (| ADJUSTED), varint g, varint zigzag(base), varint X,
    bins stream of residuals, [bins stream of zigzag(adjustments)], X varint exception position
    gaps, X 8-byte exception patterns little-endian."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    exponent = choose_adjusted_exponent(values)
    ints, adjustments, usable = nearest_decimals(values, exponent)
    if not usable.any():
        return None
    factor = common_factor(ints[usable])
    transform, base, residuals = plan_for_bins(fill_exceptions(ints // factor, usable))
    exceptions = np.flatnonzero(~usable)
    adjusted = bool(adjustments.any())
    return b"".join((
        bytes((exponent, transform | (ADJUSTED if adjusted else 0))),
        encode_varints([factor, int(zigzag_encode([base])[0]), exceptions.size]),
        encode_bins(residuals),
        encode_bins(zigzag_encode(adjustments)) if adjusted else b"",
        encode_varints(position_gaps(exceptions)),
        values[exceptions].view(np.uint64).astype("<u8").tobytes(),
    ))


def decode_decimal_bins(blob, count):
    check_count(count)
    blob = bytes(blob)
    head = read_decimal_head(blob, count, "decimal-bins", adjustable=True)
    residuals, offset = decode_bins(blob, count, head.offset)
    values = decimals_from_residuals(head, residuals)  # before the adjustments: one array at a time
    adjustments = None
    if head.adjusted:
        adjustments, offset = decode_bins_parts(blob, count, offset)
    exceptions = read_exceptions(blob, offset, count, head.exceptions)
    return adjusted_with_exceptions(values, adjustments, exceptions)


def decimal_bins_decoder(blob, count):
    """`decode_decimal_bins` as a decoder for lib.codecs.bins.batched.drive: it asks for its bins
    streams and returns its parts, which `finish_decimal_bins` turns into values with other blocks'."""
    check_count(count)
    blob = bytes(blob)
    head = read_decimal_head(blob, count, "decimal-bins", adjustable=True)
    residuals, offset = yield from bins_stream(blob, head.offset, count)
    adjustments = None
    if head.adjusted:
        adjustments, offset = yield from bins_stream_parts(blob, offset, count)
    exceptions = read_exceptions(blob, offset, count, head.exceptions)
    return DecimalBinsParts(head, residuals, adjustments, exceptions)


DecimalBinsParts = namedtuple("DecimalBinsParts", "head residuals adjustments exceptions")


def finish_decimal_bins(parts):
    """The values of many decimal-bins blocks from `decimal_bins_decoder`'s parts, computed for
    many at once: the blocks of each transform, a cache-sized group at a time
    (lib.codecs.limits.cache_groups), in one array, the running sums of the delta transforms
    restarted at each block (lib/codecs/transforms.py), each value divided by its block's power of
    ten. Returns one float64 array per block, in order."""
    results = [None] * len(parts)
    for transform in TRANSFORM_NAMES:
        numbers = [n for n, part in enumerate(parts) if part.head.transform == transform]
        for group in cache_groups([parts[n].residuals.size for n in numbers]):
            chosen = [numbers[i] for i in group]
            for n, values in zip(chosen, _decimal_bins_together([parts[n] for n in chosen], transform)):
                results[n] = values
    return results


def _uint64s(numbers):
    return np.array(numbers, dtype=np.uint64)


def _decimal_bins_together(parts, transform):
    """The values of decimal-bins blocks of one transform, in one array (a block alone keeps its own)."""
    heads = [part.head for part in parts]
    counts = np.array([part.residuals.size for part in parts], dtype=np.int64)
    firsts = np.cumsum(counts) - counts
    centred = parts[0].residuals if len(parts) == 1 else np.concatenate([part.residuals for part in parts])
    unzigzag_in_place(centred)
    bases = [zigzag_decode_int(h.zigzag_base) & MASK64 for h in heads]
    operate_per_block(centred, bases, counts, np.add, 0, _uint64s)
    ints = INVERSE[transform](centred, firsts)
    operate_per_block(ints, [h.factor for h in heads], counts, np.multiply, 1, _uint64s)
    floats = ints_to_floats(ints.view(np.int64), 0, in_place=True)
    operate_per_block(floats, [h.exponent for h in heads], counts, np.divide, 0, lambda e: POWERS_OF_TEN[e])
    return [adjusted_with_exceptions(floats[first:first + count], part.adjustments, part.exceptions)
            for part, first, count in zip(parts, firsts.tolist(), counts.tolist())]


