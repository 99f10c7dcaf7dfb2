"""Tests for lib/rollup/exact_sums.py: sums added exactly and rounded once, as math.fsum."""
import math

import numpy as np
from hypothesis import given, settings, strategies as st

from lib.data.dataset import Series
from lib.rollup.exact_sums import limbs_to_float, normalize
from lib.rollup.levels import rollup_from_raw, rollup_series
from tests.rollup_reference import make_series

# m * 2**e with small m makes exact ties (halfway between two floats) frequent.
binary_values = st.builds(
    lambda m, e: math.ldexp(m, e),
    st.one_of(st.integers(-4, 4), st.integers(-(2**53) + 1, 2**53 - 1)),
    st.integers(-300, 300),
)


def test_sum_is_exact_where_float_addition_is_not():
    # Left to right in float64, 1e16 + 1 + 1 stays 1e16; the exact total is 2.
    series = Series("temperature", {}, [0, 1, 2, 3], [1e16, 1.0, 1.0, -1e16])
    assert rollup_from_raw([series], 10)[0].fields["sum"][0] == 2.0
    # The same from one-point buckets: the coarse sum adds exact totals, not rounded floats.
    assert rollup_series(series, (1, 10))[10].fields["sum"][0] == 2.0


def test_sum_rounds_once_to_nearest():
    # 2**100 + 2**47 is exactly halfway between 2**100 and the next float (2**100 + 2**48): a tie,
    # rounded to even (2**100). A further 2**-20 makes it more than halfway: round up.
    assert rollup_from_raw([make_series([(0, 2.0**100), (1, 2.0**47)])], 10)[0].fields["sum"][0] == 2.0**100
    above = make_series([(0, 2.0**100), (1, 2.0**47), (2, 2.0**-20)])
    assert rollup_from_raw([above], 10)[0].fields["sum"][0] == 2.0**100 + 2.0**48
    # Same tie with the deciding bit close to the top: 2**70 + 2**17 (halfway) + 1.
    close = make_series([(0, 2.0**70), (1, 2.0**17), (2, 1.0)])
    assert rollup_from_raw([close], 10)[0].fields["sum"][0] == 2.0**70 + 2.0**18
    # Sums beyond the largest float are +inf, and an exact total back in range is not.
    huge = make_series([(0, 1e308), (1, 1e308), (2, -1e308)])
    assert rollup_from_raw([huge], 10)[0].fields["sum"][0] == 1e308
    assert rollup_from_raw([make_series([(0, 1e308), (1, 1e308)])], 10)[0].fields["sum"][0] == math.inf


@settings(max_examples=300, deadline=None)
@given(st.lists(binary_values, max_size=12))
def test_sum_matches_fsum_on_ties_and_wide_exponents(values):
    series = make_series([(i, v) for i, v in enumerate(values)])
    assert rollup_from_raw([series], 10**6)[0].aggregate("sum").tolist() == ([math.fsum(values)] if values else [])


def test_limbs_written_out():
    # Limbs [-1, 1] are -1 + 1 * 2**32 = 2**32 - 1: canonical form [2**32 - 1, 0].
    assert normalize(np.array([[-1, 1]], dtype=np.int64)).tolist() == [[2**32 - 1, 0]]
    # [3, 1] at exponent -1 is (3 + 2**32) / 2; [0, -1] at exponent 0 is -2**32.
    limbs = np.array([[3, 1], [0, -1]], dtype=np.int64)
    assert limbs_to_float(limbs, np.array([-1, 0])).tolist() == [(3 + 2**32) / 2, -(2.0**32)]
