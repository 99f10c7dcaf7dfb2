"""lib/codecs/decimal_bins.py: decimals and floats a few ULP from a decimal, the adjustment limit."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.codecs.bins.batched import drive
from lib.codecs.decimal_digits import ADJUSTED
from lib.codecs.registry import (
    DECIMAL_BINS, batched_value_decoder, decode_values_tagged, finish_batched_values,
)
from lib.codecs.transforms import floats_from_ordered, ordered_integers
from lib.errors import FormatError
from tests.value_checks import exceptions_in, patterns, round_trip


RNG = np.random.default_rng(11)


# The fast codecs: decimals with adjustments, dictionaries ----------------------------------------


def test_floats_one_step_from_a_decimal_cost_bits_not_exceptions():
    decimals = np.round(RNG.uniform(0, 100, 1000), 3)
    steps = RNG.choice([-1, 0, 0, 1], 1000)  # 51.846000000000004 is 51.846 plus one step
    values = floats_from_ordered(ordered_integers(decimals) + steps)
    assert (values != decimals).sum() > 400
    tag, blob = round_trip(values)
    assert tag == DECIMAL_BINS
    assert blob[1] & ADJUSTED and not exceptions_in(blob, values.size)
    assert 8 * len(blob) < 24 * values.size  # 17 bits of decimal + about 2 of adjustment


def test_values_no_decimal_comes_near_are_exceptions():
    values = np.round(RNG.uniform(0, 100, 500), 2)
    values[[3, 99]] = [np.nan, 1e-300]
    tag, blob = round_trip(values)
    assert tag == DECIMAL_BINS and not not exceptions_in(blob, values.size)

@settings(max_examples=100, deadline=None)
@given(st.integers(0, 6), st.one_of(
    hnp.arrays(np.int64, st.integers(1, 50), elements=st.integers(-10**9, 10**9)).map(lambda ints: ints / 1000),
    hnp.arrays(np.float64, st.integers(1, 50)),
))
def test_nearest_decimals_take_the_exact_shortcut_without_changing_the_answer(exponent, values):
    from lib.codecs.decimal_digits import POWERS_OF_TEN, ints_to_floats
    from lib.codecs.decimal_bins import ADJUST_LIMIT, nearest_decimals
    ints, adjustments, usable = nearest_decimals(values, exponent)
    with np.errstate(over="ignore", invalid="ignore"):  # the formula written out, with no shortcut
        scaled = values * POWERS_OF_TEN[exponent]
        in_range = np.abs(scaled) < 2.0**63
        expected_ints = np.where(in_range, np.rint(scaled), 0.0).astype(np.int64)
    steps = ordered_integers(values) - ordered_integers(ints_to_floats(expected_ints, exponent))
    expected_usable = in_range & (np.abs(steps) < ADJUST_LIMIT)
    np.testing.assert_array_equal(ints, expected_ints)
    np.testing.assert_array_equal(usable, expected_usable)
    np.testing.assert_array_equal(adjustments, np.where(expected_usable, steps, 0))


def test_nearest_decimals_by_hand():
    from lib.codecs.decimal_bins import nearest_decimals

    # 51.846000000000004 is the float one step above 51.846; 1.5 is exact; NaN has no decimal.
    ints, adjustments, usable = nearest_decimals(np.array([51.846000000000004, 1.5, np.nan]), 3)
    assert ints.tolist() == [51846, 1500, 0]
    assert adjustments.tolist() == [1, 0, 0]
    assert usable.tolist() == [True, True, False]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-10**6, 10**6).map(lambda i: i / 1000),
                          st.integers(-10**6, 10**6).map(lambda i: float(np.nextafter(i / 100, np.inf)))),
                min_size=1, max_size=60))
def test_exponent_costs_at_once_are_the_costs_one_by_one(values):
    from lib.codecs.decimal_bins import E_MAX, adjusted_exponent_cost, adjusted_exponent_costs
    sample = np.array(values, dtype=np.float64)
    one_by_one = np.array([adjusted_exponent_cost(sample, e) for e in range(E_MAX + 1)], dtype=np.float64)
    np.testing.assert_array_equal(adjusted_exponent_costs(sample).view(np.uint64), one_by_one.view(np.uint64))


# ULP adjustments at their limit --------------------------------------------------------------------

ONE_AND_A_HALF = 0x3FF8000000000000  # 1.5: a positive float, so one step up is its pattern plus one


def steps_from_one_and_a_half(*steps):
    return np.array([ONE_AND_A_HALF + step for step in steps], dtype=np.uint64).view(np.float64)


def test_a_float_65535_steps_from_a_decimal_is_an_adjustment_and_65536_an_exception():
    from lib.codecs.decimal_bins import ADJUST_LIMIT, nearest_decimals
    assert ADJUST_LIMIT == 65536
    values = steps_from_one_and_a_half(65535, -65535, 65536, -65536)
    ints, adjustments, usable = nearest_decimals(values, 1)
    assert ints.tolist() == [15] * 4
    assert usable.tolist() == [True, True, False, False]
    assert adjustments.tolist() == [65535, -65535, 0, 0]


def test_a_block_at_the_adjustment_limit_reads_back():
    from lib.codecs.decimal_bins import encode_decimal_bins, read_decimal_head
    values = np.concatenate([np.full(20, 1.5), steps_from_one_and_a_half(65535, -65535, 65536, -65536)])
    blob = encode_decimal_bins(values)
    head = read_decimal_head(blob, values.size, "decimal-bins", adjustable=True)
    assert (head.exponent, head.adjusted, head.exceptions) == (1, True, 2)
    np.testing.assert_array_equal(patterns(decode_values_tagged(DECIMAL_BINS, blob, values.size)), patterns(values))


@pytest.mark.parametrize("steps, exceptions", [(65535, 0), (65536, 1)])
def test_the_exponent_cost_counts_an_adjustment_below_the_limit_and_an_exception_at_it(steps, exceptions):
    from lib.codecs.decimal_digits import DIGIT_BITS, EXCEPTION_BITS
    from lib.codecs.decimal_bins import ADJUST_COST_BITS, adjusted_exponent_cost, adjusted_exponent_costs
    sample = steps_from_one_and_a_half(steps)
    # At e = 1: one digit, then zigzag(65535) = 131070 (17 bits) plus its cost, or an exception.
    expected = DIGIT_BITS + (EXCEPTION_BITS if exceptions else 17 + ADJUST_COST_BITS)
    assert adjusted_exponent_cost(sample, 1) == expected
    assert adjusted_exponent_costs(sample)[1] == expected


def adjusted_block(zigzag_step):
    """A decimal-bins block of one value: 15 / 10**1 = 1.5, moved by the step whose zigzag is given."""
    from lib.codecs.bins import encode_bins
    head = bytes((1, ADJUSTED)) + bytes((1, 30, 0))  # e 1, plain; g 1, zigzag(15) = 30, no exceptions
    return head + bytes((0, 0, 1, 0)) + encode_bins(np.array([zigzag_step], dtype=np.uint64))


@pytest.mark.parametrize("zigzag_step, step", [(2 * 65535, 65535), (2 * 65535 - 1, -65535)])
def test_a_stored_adjustment_below_the_limit_moves_the_decimal(zigzag_step, step):
    decoded = decode_values_tagged(DECIMAL_BINS, adjusted_block(zigzag_step), 1)
    assert patterns(decoded).tolist() == patterns(steps_from_one_and_a_half(step)).tolist()


@pytest.mark.parametrize("zigzag_step", [2 * 65536, 2 * 65536 - 1, 2**64 - 2, 2**64 - 1])
def test_a_stored_adjustment_at_the_limit_or_beyond_is_refused(zigzag_step):
    # 2**64 - 1 is the zigzag of -2**63, whose magnitude int64 cannot hold: it must not slip through.
    blob = adjusted_block(zigzag_step)
    with pytest.raises(FormatError, match="adjustment"):
        decode_values_tagged(DECIMAL_BINS, blob, 1)
    with pytest.raises(FormatError, match="adjustment"):
        finish_batched_values(drive([batched_value_decoder(DECIMAL_BINS, blob, 1)]))


