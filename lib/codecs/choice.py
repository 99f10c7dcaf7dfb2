"""The choice: which codec writes each block, estimated from the block itself, never by trying
general-purpose compressors on it.

No single encoding wins on every metric, so each block of a series is stored by whichever codec
suits its numbers. Trying every codec and keeping the smallest would be exact but slow, so the
default choice tries only the FAST codecs (constant, runs, decimal-bins, multiple-bins, float32-bins,
ordered-bins, dictionary: each one pass of numpy work ending in the bins entropy coder) and skips
a codec when an estimate from a sample says it cannot win (`worth_trying`):

    decimal-bins   when most values are short decimals; otherwise unless they look like widened
                   float32s, or their ordered bits look smaller (full-precision floats); never when
                   its exceptions alone (NaN and infinities) would take more than the best so far
                   or twice a dictionary's estimate
    a dictionary   only when a sample has few distinct values and their order-0 entropy (about
                   what its rank stream costs) undercuts the best of all the others; tried early,
                   before multiple-bins, when it undercuts half of the best so far and multiple-bins'
                   estimate
    multiple-bins  unless decimal-bins stored the block exactly as short decimals (then no other
                   step describes them better), or the best so far takes 2 bits a value or less;
                   and when the estimate of its integers and adjustments on a sample comes near
                   the best so far and is not clearly above float32-bins' (estimated alike)
    float32-bins   only when most values lie within a few float64 steps of a float32, and
                   decimal-bins did not store them exactly, nor anything in 2 bits a value; and
                   when its estimate comes near the best and is not clearly above multiple-bins'
    ordered-bins   only when nothing so far came under 32 bits a value, they are not float32s
                   (full-precision floats), and the deltas of their ordered bits could beat the best

Each estimate is computed once per block, when a gate first asks for it (`BlockEstimates`).

With `exhaustive` the other codecs (Gorilla, bit-packed decimal, ordered and decimal byte planes)
take part too, and every stream is also tried through the DEFLATE and LZMA stages
(lib/codecs/stages.py): much slower, occasionally smaller. `exhaustive` is False, True (every
stage) or an iterable of stage flags such as (ZLIB,).

Timestamps are chosen in lib/codecs/timestamp_choice.py, the same way.
"""
from functools import cached_property

import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.codecs.byte_planes import DEFLATE, LZMA1
from lib.codecs.decimal_bins import choose_adjusted_exponent, nearest_decimals
from lib.codecs.decimal_digits import (
    EXCEPTION_BITS, PATTERN_BYTES, adjustment_bits, decimal_ints, fill_exceptions, read_decimal_head,
    spread_sample,
)
from lib.codecs.dictionary import DICTIONARY_MAX_SHARE
from lib.codecs.float32_bins import float32_bits_estimate
from lib.codecs.gorilla import encode_values
from lib.codecs.limits import MAX_COUNT, max_stream_bytes
from lib.codecs.multiple_bins import (
    FLOAT32_SHARE, encode_multiple_bins, near_float32_share, sized_arithmetic,
)
from lib.codecs.registry import (
    CONSTANT, DECIMAL, DECIMAL_BINS, DECIMAL_PLANES, DICTIONARY, FLOAT32_BINS, GORILLA, MULTIPLE_BINS,
    ORDERED, ORDERED_BINS, RUNS, VALUE_CODECS,
)
from lib.codecs.stages import LZMA, STAGES, ZLIB
from lib.codecs.transforms import bit_patterns, ordered_integers, plan_for_bins, planning_sample

# The codecs the default (fast) choice tries: each costs one pass of numpy work, no compressor. Of
# candidates of equal size the one first here is kept.
FAST_CODECS = (CONSTANT, RUNS, DECIMAL_BINS, DICTIONARY, MULTIPLE_BINS, FLOAT32_BINS, ORDERED_BINS)
# The turns they get, in order. The dictionary costs the most to write (a choice of its own for its
# distinct values), so its usual turn is the last, against the best of all the others; but in its
# early turn a dictionary estimated at under half the best so far (a value and NaN, alternating) is
# written, so that the later gates see how small the block already is. It is never written twice.
FAST_TURNS = FAST_CODECS + (DICTIONARY,)
EARLY_DICTIONARY_SHARE = 0.5
# What a dictionary takes besides its ranks' bits and its distinct values' own: its size, the
# entries' tag and length, the entries' block header and the ranks' stream header. With one or
# two distinct values a dictionary block measured 25 to 46 bytes more than its ranks' entropy.
DICTIONARY_OVERHEAD_BYTES = 24
# decimal-bins is skipped when its exceptions alone take more than this many times the most a
# dictionary takes by its estimate (values and NaN alternating: NaN is an exception to decimals)
DICTIONARY_SLACK = 2
# These two compress inside their own layout (only the planes that pay), with the compressors the
# exhaustive setting allows; no stage is applied over them again.
PLANE_CODECS = (ORDERED, DECIMAL_PLANES)
# ORDERED is skipped (it costs the most time) when the decimal codec is this much smaller than
# Gorilla: then the values are short decimals and their float bits are noise to it.
ORDERED_SKIP_RATIO = 0.75


def exhaustive_stages(exhaustive):
    """exhaustive=False: no stage; True: every stage; or an iterable of stage flags such as (ZLIB,)."""
    if exhaustive is True:
        return tuple(STAGES)
    if not exhaustive:
        return ()
    stages = tuple(exhaustive)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stages {unknown}")
    return stages


def smallest(candidates):
    """The (tag, blob) with the fewest bytes; the earlier candidate wins a tie."""
    return min(candidates, key=lambda candidate: len(candidate[1]))


def with_stages(candidates, stages, count):
    """Add the compressed version of every candidate under every stage."""
    compressed = []
    for tag, blob in candidates:
        if len(blob) > max_stream_bytes(count):
            continue  # a decoder would refuse to inflate it; never the best anyway
        for flag in stages:
            compressed.append((tag | flag, STAGES[flag].compress(blob)))
    return candidates + compressed


def plane_compressors(stages):
    """Entropy stage flags -> the compressors of lib/codecs/byte_planes.py: LZMA -> LZMA1, ZLIB -> DEFLATE."""
    return tuple({LZMA: LZMA1, ZLIB: DEFLATE}[flag] for flag in stages)


# Values -------------------------------------------------------------------------------------------


def value_candidates(values, exhaustive=False):
    """(tag, blob) for every codec that applies to this block, in tag order.

    The plane codecs take part only when `exhaustive`, and use the compressors it allows.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    if not exhaustive:
        return fast_value_candidates(values)
    compressors = plane_compressors(exhaustive_stages(exhaustive))
    candidates = []
    sizes = {}
    for tag, codec in VALUE_CODECS.items():
        if tag == ORDERED and sizes.get(DECIMAL, np.inf) <= ORDERED_SKIP_RATIO * sizes[GORILLA]:
            continue  # decimals that fit: the ordered integers of their floats are noise
        blob = codec.encode(values, compressors) if tag in PLANE_CODECS else codec.encode(values)
        if blob is not None:
            candidates.append((tag, blob))
            sizes[tag] = len(blob)
    return candidates


def fast_value_candidates(values, dictionary=True):
    """(tag, blob) of the fast codecs that `worth_trying` lets through, tried in FAST_TURNS order and
    returned in FAST_CODECS order; the constant codec, when it applies, ends the search."""
    candidates = []
    estimates = BlockEstimates(values)
    for turn, tag in enumerate(FAST_TURNS):
        early = turn < len(FAST_CODECS)  # (only the dictionary has two turns)
        if not worth_trying(tag, values, candidates, dictionary, estimates, early):
            continue
        if tag == MULTIPLE_BINS:  # the arithmetic its estimate chose
            blob = encode_multiple_bins(values, estimates.multiple[1])
        else:
            blob = VALUE_CODECS[tag].encode(values)
        if blob is None:
            continue
        candidates.append((tag, blob))
        if tag == CONSTANT:
            break
    candidates.sort(key=lambda candidate: FAST_CODECS.index(candidate[0]))  # `smallest` keeps the first
    return candidates or [(GORILLA, encode_values(values))]  # an empty block


class BlockEstimates:
    """The estimates the gates of one block's choice ask for, each computed once, when first asked."""

    def __init__(self, values):
        self.values = values

    @cached_property
    def spread_sample(self):
        """About SAMPLE_SIZE values spread evenly over the block (every value of a short one)."""
        return spread_sample(self.values)

    @cached_property
    def float32_like(self):
        """Whether most of a sample lies within a few float64 steps of a float32."""
        return self.values.size > 0 and near_float32_share(self.spread_sample) >= FLOAT32_SHARE

    @cached_property
    def not_finite(self):
        """How many values are NaN or infinite: exceptions to a decimal codec."""
        return int(self.values.size - np.count_nonzero(np.isfinite(self.values)))

    @cached_property
    def ordered_sample(self):
        return planning_sample(self.values, *ESTIMATE_SAMPLE)

    @cached_property
    def ordered_bits(self):
        return ordered_bits_estimate(self.values, self.ordered_sample)

    @cached_property
    def dictionary(self):
        """(bytes of the ranks, distinct values) of a dictionary, estimated by the order-0 entropy
        of a sample's values (a sample can miss values, so this is no lower bound); None when the sample has more than 1 / DICTIONARY_MAX_SHARE
        distinct values, or the block is too short for a dictionary."""
        values = self.values
        if values.size < 2 * DICTIONARY_MAX_SHARE:
            return None
        sample = bit_patterns(self.spread_sample)
        _, counts = np.unique(sample, return_counts=True)
        if DICTIONARY_MAX_SHARE * counts.size > sample.size:
            return None
        share = counts / sample.size
        return float(-(share * np.log2(share)).sum()) * values.size / 8, counts.size

    @cached_property
    def dictionary_bytes(self):
        """About the most a dictionary takes: its ranks' entropy and a raw pattern and a byte for
        each distinct value of the sample (inf when no dictionary applies)."""
        if self.dictionary is None:
            return np.inf
        rank_bytes, distinct = self.dictionary
        return DICTIONARY_OVERHEAD_BYTES + rank_bytes + (PATTERN_BYTES + 1) * distinct

    @cached_property
    def multiple(self):
        """(estimated bits, arithmetic) of multiple-bins, or None when no step is found."""
        return sized_arithmetic(self.values)

    @cached_property
    def float32_bits(self):
        return float32_bits_estimate(self.values)


def worth_trying(tag, values, candidates, dictionary, estimates, early=False):
    """Whether a fast codec could beat the candidates so far, judged without encoding.

    DECIMAL_BINS: not when its exceptions alone (every value not finite, EXCEPTION_BITS each) take
    more than the best so far or DICTIONARY_SLACK times a dictionary's estimate; then when most of
    a sample are short decimals; otherwise unless the values look like widened float32s (most
    within a few float64 steps of a float32) or estimates on a sample say ordered-bins will be
    smaller.
    DICTIONARY: when a sample has few distinct values and their ranks' order-0 entropy (about what
    the rank stream needs), plus the distinct values at the best's bits a value, undercuts the
    best so far (`early`, before the adjusted and ordered codecs' turn: undercuts half of it).
    MULTIPLE_BINS: unless decimal-bins stored the block exactly as short decimals, or something
    already stored it in ALREADY_SMALL_BITS a value; and when its estimate could win
    (`adjusted_could_win`).
    FLOAT32_BINS: when the values look like widened float32s and decimal-bins did not store them
    exactly (integer gauges are float32s too, and decimals suit them better), nor anything in
    ALREADY_SMALL_BITS a value; and when its estimate could win.
    ORDERED_BINS: when they do not look like float32s, nothing so far came under 32 bits a value
    (full-precision floats: a decimal of 17 digits, or near nothing) and its estimate is below the
    best so far.
    """
    best = min((len(blob) for _, blob in candidates), default=np.inf)
    if tag == DECIMAL_BINS:
        return decimals_could_win(values, estimates, best)
    if tag == DICTIONARY:
        if not dictionary or estimates.dictionary is None or DICTIONARY in dict(candidates):
            return False
        rank_bytes, distinct = estimates.dictionary
        least = DICTIONARY_OVERHEAD_BYTES + rank_bytes + distinct * best / values.size
        if not early:
            return least < best
        if least >= EARLY_DICTIONARY_SHARE * best:
            return False
        # not when multiple-bins, next, is estimated smaller (multiples of a step, few of them)
        return estimates.multiple is None or least < estimates.multiple[0] / 8
    if tag in (MULTIPLE_BINS, FLOAT32_BINS, ORDERED_BINS) and not values.size:
        return False  # they write nothing for an empty block
    if tag in (MULTIPLE_BINS, FLOAT32_BINS):
        if 8 * best <= ALREADY_SMALL_BITS * values.size or clean_decimals(candidates, values.size):
            return False
        if tag == FLOAT32_BINS and not estimates.float32_like:
            return False
        return adjusted_could_win(tag, estimates, best)
    if tag == ORDERED_BINS:
        if estimates.float32_like or best <= ORDERED_WORTH_BYTES * values.size:
            return False
        return estimates.ordered_bits < 8 * best
    return True


def decimals_could_win(values, estimates, best):
    """The DECIMAL_BINS gate of `worth_trying`."""
    if estimates.not_finite:  # a NaN or an infinity is an exception of EXCEPTION_BITS at least
        if EXCEPTION_BITS * estimates.not_finite >= 8 * min(best, DICTIONARY_SLACK * estimates.dictionary_bytes):
            return False
    if short_decimal_share(estimates.spread_sample) >= SHORT_DECIMAL_SHARE:
        return True
    return not estimates.float32_like and not ordered_beats_decimals(values, estimates.ordered_bits,
                                                                     estimates.ordered_sample)


# multiple-bins and float32-bins are estimated alike (lib.codecs.adjusted.estimated_bits on the same
# sample): the one more than RIVAL_MARGIN_BITS a value, plus RIVAL_MARGIN_BLOCK_BITS, above the
# other is not written (the estimates leave out the headers: multiple-bins' arithmetic takes up to
# 9 bytes, each bins stream a few; on a short block that is all the difference). Their estimates
# count every adjustment at its full cost, so one within ADJUSTED_SLACK of the best so far may
# still win.
RIVAL_MARGIN_BITS, RIVAL_MARGIN_BLOCK_BITS = 1, 96
ADJUSTED_SLACK = 1.25


def adjusted_could_win(tag, estimates, best):
    """For MULTIPLE_BINS or FLOAT32_BINS: whether its estimate comes near the best so far and is
    not clearly above its rival's (float32-bins is the rival only for float32-like blocks)."""
    sizes = {FLOAT32_BINS: estimates.float32_bits if estimates.float32_like else np.inf,
             MULTIPLE_BINS: estimates.multiple[0] if estimates.multiple else np.inf}
    rival = sizes[FLOAT32_BINS if tag == MULTIPLE_BINS else MULTIPLE_BINS]
    return (sizes[tag] <= rival + RIVAL_MARGIN_BITS * estimates.values.size + RIVAL_MARGIN_BLOCK_BITS
            and sizes[tag] < ADJUSTED_SLACK * 8 * best)


ORDERED_WORTH_BYTES = 4  # ordered-bins is tried when nothing so far stored a value in 32 bits or less
# multiple-bins and float32-bins store an integer per value: a block already this small (mostly
# repeats, NaNs or constants) leaves them nothing to win
ALREADY_SMALL_BITS = 2


ESTIMATE_SAMPLE = (4, 128)  # runs of neighbours the estimates below look at


def ordered_bits_estimate(values, sample):
    """About the fewest bits ordered-bins could take: the significant bits of its residuals on runs
    of neighbours (`sample`), scaled to the block; bins add a little."""
    _, _, residuals = plan_for_bins(ordered_integers(sample))
    return int(bit_lengths(residuals).sum()) * values.size // max(sample.size, 1)


SHORT_DECIMAL_EXPONENT, SHORT_DECIMAL_SHARE = 10, 0.5  # 10 digits: binary fractions down to 1/1024


def short_decimal_share(sample):
    """The share of a sample that is a decimal of at most SHORT_DECIMAL_EXPONENT digits after the
    point; 1.0 at once for whole numbers (integer gauges, the usual float32-like block) and for
    an empty block."""
    with np.errstate(invalid="ignore"):  # a signalling NaN
        whole = np.array_equal(sample, np.rint(sample))
    if whole:
        return 1.0
    _, fits = decimal_ints(sample, SHORT_DECIMAL_EXPONENT)
    return float(fits.mean())


def ordered_beats_decimals(values, ordered_bits, sample):
    """For values that are mostly not short decimals: whether ordered-bins looks smaller than
    decimal-bins, both estimated on the same runs of neighbours (`sample`) by the bits of their
    residuals (plus, for the decimals, their adjustments and exceptions), so that decimal-bins is
    not written only to lose. `ordered_bits`: `ordered_bits_estimate` on that sample."""
    ints, adjustments, usable = nearest_decimals(sample, choose_adjusted_exponent(sample))
    _, _, residuals = plan_for_bins(fill_exceptions(ints, usable))
    decimal_bits = (int(bit_lengths(residuals).sum()) + adjustment_bits(adjustments)
                    + EXCEPTION_BITS * int(np.count_nonzero(~usable)))
    return ordered_bits < decimal_bits * values.size // max(sample.size, 1)


def clean_decimals(candidates, count):
    """Whether decimal-bins stored the block exactly (no adjustments, no exceptions) with at most
    SHORT_DECIMAL_EXPONENT digits after the point: then the values are the decimals a person or a
    printf wrote, and no other step describes them better. (At 17 digits every float is a decimal.)"""
    decimal = dict(candidates).get(DECIMAL_BINS)
    if decimal is None:
        return False
    head = read_decimal_head(decimal, count, "decimal-bins", True)
    return not head.adjusted and not head.exceptions and head.exponent <= SHORT_DECIMAL_EXPONENT


def smallest_without_dictionary(values):
    """(tag, blob) of a dictionary's distinct values: the fast choice, without a dictionary of their own."""
    return smallest(fast_value_candidates(values, dictionary=False))


def encode_values_best(values, exhaustive=False):
    """float64 array -> (tag, blob): the smallest encoding among all codecs (and stages)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size > MAX_COUNT:
        raise ValueError(f"one block holds at most {MAX_COUNT} values, got {values.size}")
    candidates = value_candidates(values, exhaustive)
    if not exhaustive:
        return smallest(candidates)
    classic = [c for c in candidates if c[0] not in PLANE_CODECS]
    planes = [c for c in candidates if c[0] in PLANE_CODECS]
    return smallest(with_stages(classic, exhaustive_stages(exhaustive), values.size) + planes)
