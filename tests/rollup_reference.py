"""The reference the roll-up tests compare with: a deliberately naive pure-Python roll-up
(`brute_rollup`) written from the definitions in lib/rollup's docstrings, not from the code under
test, and the hypothesis strategies the tests share."""
import math

import numpy as np
from hypothesis import strategies as st

from lib.data.dataset import Series

WIDTH = 1000
LEVELS = (WIDTH, 2 * WIDTH, 6 * WIDTH)

timestamps = st.integers(min_value=-20 * WIDTH, max_value=20 * WIDTH)
finite_values = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)
# Values whose float sums lose bits (1e16 + 1 == 1e16), next to arbitrary floats and NaN.
cancelling = st.sampled_from([1e16, -1e16, 1.0, -3.0, 0.1, 2.0**60, -(2.0**60), 1e-20, -0.0])
readings = st.one_of(finite_values, st.integers(-5, 5).map(float), cancelling, st.just(math.nan))
points = st.lists(st.tuples(timestamps, readings), max_size=60)
counter_points = st.lists(
    st.tuples(timestamps, st.one_of(st.integers(0, 1000).map(float), st.just(math.nan), st.just(math.inf))),
    max_size=60,
)
normal_magnitudes = st.floats(min_value=1e-300, max_value=1e300)
sketch_values = st.one_of(normal_magnitudes, normal_magnitudes.map(lambda x: -x), st.just(0.0))


def make_series(pairs, name="cpu_usage_percent"):
    ts = np.array([t for t, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.float64)
    return Series(name, {"host": "a"}, ts, values)


def brute_rollup(pairs, width):
    """bucket start -> {"values", "nan", "deltas"} in time order (Python's sort is stable)."""
    buckets = {}
    previous = None
    for ts, value in sorted(pairs, key=lambda p: p[0]):
        bucket = buckets.setdefault(ts // width * width, {"values": [], "nan": 0, "deltas": []})
        if math.isnan(value):
            bucket["nan"] += 1
            continue
        bucket["values"].append(value)
        if previous is not None:
            bucket["deltas"].append(value - previous if value >= previous else value)
        previous = value
    return dict(sorted(buckets.items()))


def brute_quantile(values, q):
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def bits(array):
    return np.ascontiguousarray(array, dtype=np.float64).view(np.uint64)
