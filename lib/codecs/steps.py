"""Steps: finding the number that a block's values are (nearly) whole multiples of.

The decimal codec finds steps of 10**-e. Exporters also write multiples of other steps: a counter's
increase divided by a window of 285 s, ADC counts times 1/1024, a price tick of 0.05 computed as
k * 0.05 in float64, a float32 sensor whose step is 0.0625. multiple-bins
(lib/codecs/multiple_bins.py) stores such values as their integers k, once it knows the step.

Finding it is pcodec's idea (its "float mult" mode): the greatest common divisor of two floats,
by Euclid's algorithm with a tolerance. For 0.9 and 0.6 (= 3 and 2 times 0.3): 0.9 - 1 * 0.6 =
0.3, then 0.6 - 2 * 0.3 is zero within the rounding error each step has accumulated, so the gcd
is 0.3. Pairs of unrelated values of the block each give a gcd; the step is one that many pairs
agree on (pairs whose integers share a factor give a multiple of it, so the smallest common
answer wins), refined as the weighted mean of what each value says it is, and then snapped to
what an exporter would have computed: k / d for an integer d when 1/step is (nearly) an integer,
k * 2**n when the step is (nearly) a power of two, else k * step. Each candidate is sized on a
sample by the caller, so a wrong guess costs time, never bytes.
"""
import math

import numpy as np

from lib.codecs.transforms import planning_sample

EPSILON = 2.0 ** -52  # the relative rounding error of one float64 operation
TINY_RATIO = 2.0 ** -46  # a remainder this much smaller than the pair is zero: no step that fine
DONE_RATIO = 2.0 ** -16  # a remainder this much smaller than the one before means we are done
AGREEMENT = 0.01  # gcds within 1% of each other are the same step
MIN_AGREEING_SHARE = 0.05  # of the pairs, for a step to count as found
MAX_EUCLID_ROUNDS = 64
SNAP_TOLERANCE = 0.01  # how near 1/step must be to an integer (or step to 2**n) to be snapped
SAMPLE_RUNS = (4, 256)  # runs of neighbours the choice looks at (lib/codecs/transforms.py)


def sample_of(values):
    """The values the choice is estimated on: the block, or runs of neighbours in a large one."""
    return planning_sample(values, *SAMPLE_RUNS)


def approximate_gcds(larger, smaller):
    """Euclid's algorithm on float pairs (larger >= smaller > 0), all pairs at once: the gcd of
    each pair within its accumulated rounding error, or NaN where there is none worth having."""
    a, b = larger.copy(), smaller.copy()
    error_a, error_b = np.zeros_like(a), np.zeros_like(b)
    gcds = np.full(a.size, np.nan)
    active = (smaller > larger * TINY_RATIO) & (larger != smaller)
    for _ in range(MAX_EUCLID_ROUNDS):
        if not active.any():
            break
        quotient = np.rint(a[active] / b[active])
        previous = a[active]
        error_a[active] += quotient * error_b[active] + previous * EPSILON
        a[active] = np.abs(previous - quotient * b[active])
        done = (a[active] <= previous * DONE_RATIO) | (a[active] <= error_a[active])
        hopeless = ~done & ((a[active] <= larger[active] * TINY_RATIO) | (a[active] <= 64 * error_a[active]))
        indices = np.flatnonzero(active)
        gcds[indices[done]] = b[indices[done]]
        active[indices[done | hopeless]] = False
        a[active], b[active] = b[active], a[active].copy()
        error_a[active], error_b[active] = error_b[active], error_a[active].copy()
    return gcds


def common_step(values):
    """The step many pairs of the values agree on, or None. Values are paired with the value
    half the sample away, so neighbours that differ by a step do not all say the same."""
    magnitudes = np.abs(values[np.isfinite(values) & (values != 0)])
    half = magnitudes.size // 2
    if half < 2:
        return None
    first, second = magnitudes[:half], magnitudes[half:2 * half]
    gcds = approximate_gcds(np.maximum(first, second), np.minimum(first, second))
    gcds = np.sort(gcds[np.isfinite(gcds)])
    needed = max(2, math.ceil(MIN_AGREEING_SHARE * half))
    for share in (0.1, 0.3, 0.5):  # the smaller steps first: shared factors give multiples of it
        if gcds.size < needed:
            return None
        step = gcds[int(share * gcds.size)]
        if (np.abs(gcds - step) < AGREEMENT * step).sum() >= needed:
            step = refined_step(step, values)
            return step if np.isfinite(step) and step > 0 else None
    return None


def refined_step(step, values):
    """The step as the values say it is: each value x = k * step gives step = x / k, weighted by how
    precise that is (large k divide the value's rounding error by more)."""
    finite = values[np.isfinite(values) & (values != 0)]
    with np.errstate(over="ignore", invalid="ignore"):
        multiples = np.rint(finite / step)
    usable = (multiples != 0) & (np.abs(multiples) < 2.0 ** 52)
    if not usable.any():
        return step
    multiples, finite = multiples[usable], finite[usable]
    weights = np.maximum(52 - np.frexp(multiples)[1], 0).astype(np.float64)
    if weights.sum() == 0:
        return step
    return float(step - np.sum(weights * ((multiples * step - finite) / multiples)) / weights.sum())


def snapped_steps(step):
    """What an exporter may have computed for a found step, as (divisor or None, factor or None)
    pairs: divide by an integer near 1/step (or its neighbours), multiply by a power of two near
    the step, or multiply by the step itself. 0.00350877 (1/285) -> divisors 285, 284, 286."""
    candidates = []
    inverse = 1.0 / step
    nearest = round(inverse) if np.isfinite(inverse) else 0
    if nearest >= 1 and abs(inverse - nearest) <= SNAP_TOLERANCE * inverse and nearest < 2 ** 53:
        candidates += [(divisor, None) for divisor in (nearest, nearest - 1, nearest + 1) if divisor >= 1]
    power = 2.0 ** round(math.log2(step))
    if abs(step - power) <= SNAP_TOLERANCE * step:
        candidates.append((None, power))
    candidates.append((None, step))
    return candidates


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
