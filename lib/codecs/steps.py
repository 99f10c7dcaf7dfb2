"""Steps: finding the number that a block's values are (nearly) whole multiples of.

The decimal codec finds steps of 10**-e. Exporters also write multiples of other steps: a counter's
increase divided by a window of 285 s, ADC counts times 1/1024, a price tick of 0.05 computed as
k * 0.05 in float64, a float32 sensor whose step is 0.0625. multiple-bins
(lib/codecs/multiple_bins.py) stores such values as their integers k, once it knows the step.

Finding it is pcodec's idea (its "float mult" mode): the greatest common divisor of two floats,
by Euclid's algorithm with a tolerance. For 0.9 and 0.6 (= 3 and 2 times 0.3): 0.9 - 1 * 0.6 =
0.3, then 0.6 - 2 * 0.3 is zero within the rounding error each step has accumulated, so the gcd
is 0.3. Pairs of differences between neighbouring values (small multiples of the step, carrying
the rounding error of the values they came from) and pairs of the values each give a gcd; the
step is one that many pairs agree on (pairs whose integers share a factor give a multiple of it,
so the smallest common answer wins), refined by least squares, and then snapped to
what an exporter would have computed: k / d for an integer d when 1/step is (nearly) an integer,
k * 2**n when the step is (nearly) a power of two, k * 0.3 for the short decimal it is near,
k * the step rounded to float32 for float32 arithmetic, else k * step. Each candidate is sized on a
sample by the caller, so a wrong guess costs time, never bytes.
"""
import math

import numpy as np

from lib.codecs.transforms import planning_sample

MANTISSA_BITS = {64: 52, 32: 23}  # of float64 and float32: a rounding's relative error is 2**-bits
DIGITS_BEYOND_ERROR = 64  # a remainder within 64 times its error is noise: no step that fine
DONE_RATIO = 2.0 ** -16  # a remainder this much smaller than the one before means we are done
AGREEMENT = 0.01  # gcds within 1% of each other are the same step
MIN_AGREEING_SHARE = 0.05  # of the pairs, for a step to count as found
MAX_EUCLID_ROUNDS = 12  # pairs of a step's multiples finish within about 8 rounds; noise's may not
SNAP_TOLERANCE = 0.01  # how near 1/step must be to an integer (or step to 2**n) to be snapped
SAMPLE_RUNS = (4, 256)  # runs of neighbours the choice looks at (lib/codecs/transforms.py)


def sample_of(values):
    """The values the choice is estimated on: the block, or runs of neighbours in a large one."""
    return planning_sample(values, *SAMPLE_RUNS)


def approximate_gcds(larger, smaller, error_larger, error_smaller, epsilon):
    """Euclid's algorithm on float pairs (larger >= smaller > 0), all pairs at once: the gcd of
    each pair within its accumulated rounding error, or NaN where there is none worth having.
    Each number starts with the error it carries already (how far from an exact multiple its
    rounding may have put it); each round adds `epsilon` (one rounding) of what it computes.
    Each round keeps only the pairs still going (`pair` says which they are)."""
    gcds = np.full(larger.size, np.nan)
    going = (smaller > DIGITS_BEYOND_ERROR * (error_larger + error_smaller)) & (larger != smaller)
    pair = np.flatnonzero(going)
    a, b, error_a, error_b = larger[going], smaller[going], error_larger[going], error_smaller[going]
    for _ in range(MAX_EUCLID_ROUNDS):
        if pair.size == 0:
            break
        quotient = np.rint(a / b)
        error_a = error_a + quotient * error_b + a * epsilon
        remainder = np.abs(a - quotient * b)
        done = (remainder <= a * DONE_RATIO) | (remainder <= error_a)
        gcds[pair[done]] = b[done]
        going = ~done & (remainder > DIGITS_BEYOND_ERROR * error_a)
        pair = pair[going]
        a, b, error_a, error_b = b[going], remainder[going], error_b[going], error_a[going]
    return gcds


PAIRS = 160  # of differences and as many of values: enough for a clear cluster, and cheap


def pairs_of(magnitudes, errors):
    """(larger, smaller, larger's error, smaller's error) pairing each magnitude with the one half
    the array away (so that neighbours, which differ by a step, are not all paired with each
    other); at most PAIRS pairs, of magnitudes spread over the whole array."""
    spread = max(1, magnitudes.size // (2 * PAIRS))
    magnitudes, errors = magnitudes[::spread], errors[::spread]
    half = min(magnitudes.size // 2, PAIRS)
    first, second = magnitudes[:half], magnitudes[half:2 * half]
    swap = first < second
    return (np.where(swap, second, first), np.where(swap, first, second),
            np.where(swap, errors[half:2 * half], errors[:half]), np.where(swap, errors[:half], errors[half:2 * half]))


def common_step(values, width=64):
    """The step many pairs agree on, or None. The pairs are of the values' differences between
    neighbours (small multiples of the step, whatever the level), and of the values themselves,
    all run through Euclid together. `width` 32: the values are float32s (widened), computed and
    rounded in float32, whose rounding errors are 2**29 times larger."""
    epsilon = 2.0 ** -MANTISSA_BITS[width]
    finite = values[np.isfinite(values)]
    differences, levels = np.abs(np.diff(finite)), np.maximum(np.abs(finite[1:]), np.abs(finite[:-1]))
    moved = differences != 0
    nonzero = np.abs(finite[finite != 0])
    of_differences = pairs_of(differences[moved], 2 * epsilon * levels[moved])
    of_values = pairs_of(nonzero, epsilon * nonzero)
    gcds = approximate_gcds(*(np.concatenate(both) for both in zip(of_differences, of_values)), epsilon)
    pairs = gcds.size
    gcds = np.sort(gcds[np.isfinite(gcds)])
    needed = max(2, math.ceil(MIN_AGREEING_SHARE * pairs))
    for share in (0.1, 0.3, 0.5):  # the smaller steps first: shared factors give multiples of it
        if gcds.size < needed:
            return None
        step = gcds[int(share * gcds.size)]
        agreeing = gcds[np.abs(gcds - step) < AGREEMENT * step]
        if agreeing.size >= needed:
            step = refined_step(float(np.median(agreeing)), finite)
            return step if np.isfinite(step) and step > 0 else None
    return None


REFINE_MAX_MULTIPLE = 1 << 20  # multiples beyond this are not trusted to be rounded to the right k


def refined_step(step, values):
    """The step as the values say it is, by least squares (step = sum(x k) / sum(k k)): first on the
    differences of neighbours, small multiples whose k are sure even when the step is 1% off;
    then, with that more precise step, on the values themselves."""
    for numbers in (np.diff(values), values):
        with np.errstate(over="ignore", invalid="ignore"):
            multiples = np.rint(numbers / step)
        usable = (multiples != 0) & (np.abs(multiples) <= REFINE_MAX_MULTIPLE)
        if usable.any():
            step = float(np.dot(numbers[usable], multiples[usable]) / np.dot(multiples[usable], multiples[usable]))
    return step


def snapped_steps(step, float32=False):
    """What an exporter may have computed for a found step, as (divisor or None, factor or None)
    pairs: divide by an integer near 1/step (or its neighbours); multiply by a power of two near
    the step, by the shortest decimal near it (k * 0.3), by the step as a float32 (a float32
    exporter's k * 0.05f) or by the step itself. 0.00350877 (1/285) -> divisors 285, 284, 286."""
    candidates = []
    inverse = 1.0 / step
    nearest = round(inverse) if np.isfinite(inverse) else 0
    if nearest >= 1 and abs(inverse - nearest) <= SNAP_TOLERANCE * inverse and nearest < 2 ** 53:
        candidates += [(divisor, None) for divisor in (nearest, nearest - 1, nearest + 1) if divisor >= 1]
    power = 2.0 ** round(math.log2(step))
    if abs(step - power) <= SNAP_TOLERANCE * step:
        candidates.append((None, power))
    decimal = shortest_decimal_near(step)
    if decimal is not None:
        candidates.append((None, decimal))
    if float32:
        candidates.append((None, float(np.float32(step))))
    candidates.append((None, step))
    return candidates


DECIMAL_SNAP_TOLERANCE = 1e-6  # relative: a refined step is this close to the decimal it stands for


def shortest_decimal_near(step, max_digits=9):
    """The decimal with the fewest significant digits within DECIMAL_SNAP_TOLERANCE of the step,
    or None: 0.30000000412 -> 0.3."""
    for digits in range(1, max_digits + 1):
        decimal = float(f"{step:.{digits}g}")
        if abs(decimal - step) <= DECIMAL_SNAP_TOLERANCE * step:
            return decimal
    return None


def decimal_divisor(values, exponents=range(10), share=0.9):
    """10**e for the smallest e at which `share` of the values are k / 10**e once rounded to float32,
    or None: float32 readings of 21.7 degrees are 21.700000762939453, no short decimal in float64,
    but the float32 nearest to 217 / 10."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        target = finite.astype(np.float32)
    for exponent in exponents:
        power = 10.0 ** exponent
        with np.errstate(over="ignore", invalid="ignore"):
            back = (np.rint(finite * power) / power).astype(np.float32)
        if (back.view(np.uint32) == target.view(np.uint32)).mean() >= share:
            return int(power)
    return None
