import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.codecs.decimal import decimal_stats, decode_decimal, encode_decimal
from lib.codecs.decimal_digits import (
    E_MAX, NO_EXPONENT, choose_exponent, decimal_ints, fill_exceptions, smallest_exponents,
)
from lib.codecs.transforms import DELTA, PLAIN, position_gaps, positions_from_gaps
from lib.codecs.gorilla import encode_values
from lib.codecs.limits import MAX_COUNT
from lib.codecs.registry import decode_values_tagged
from lib.codecs.registry import DECIMAL_BINS, DECIMAL_PLANES
from lib.errors import FormatError
from tests.value_checks import patterns


def from_patterns(*bit_patterns):
    return np.array(bit_patterns, dtype=np.uint64).view(np.float64)


def assert_round_trip(values):
    values = np.asarray(values, dtype=np.float64)
    blob = encode_decimal(values)
    decoded = decode_decimal(blob, values.size)
    assert decoded.dtype == np.float64
    np.testing.assert_array_equal(patterns(decoded), patterns(values))
    return blob


def le_pattern(value):
    return patterns([value]).astype("<u8").tobytes()


# Hand-worked vectors --------------------------------------------------------------------------------

KNOWN_VECTORS = [
    pytest.param(
        # e = 2 -> ints [150, 225, 300], common factor 75 -> [2, 3, 4]. Plain, centred on the
        # median 3: [-1, 0, 1], zigzag [1, 0, 2] at width 2 -> bits 01 00 10 -> 0x48.
        # Header: e=2, transform plain (0), width 2; varints g=75 (0x4B), zigzag(3)=6, P=0, X=0.
        [1.5, 2.25, 3.0],
        bytes([2, PLAIN, 2, 0x4B, 6, 0, 0, 0x48]),
        id="worked-example",
    ),
    pytest.param(
        # e = 0, ints [10, 11, 12, ?], the NaN filled with 12. Plain median 12 -> [-2, -1, 0, 0],
        # zigzag [3, 1, 0, 0] at width 2 -> 11 01 00 00 = 0xD0. One exception at position 3
        # (gap 3), then its pattern.
        [10.0, 11.0, 12.0, float("nan")],
        bytes([0, PLAIN, 2, 1, 24, 0, 1, 0xD0, 3]) + le_pattern(float("nan")),
        id="exception",
    ),
    pytest.param(
        # e = 0, plain around the median 7 (zigzag 14): nine zeros and 993 -> zigzag 1986.
        # Width 0 plus one patch (a gap of 9 and the varint 1986 = C2 0F) beats width 11.
        [7.0] * 9 + [1000.0],
        bytes([0, PLAIN, 0, 1, 14, 1, 0, 9, 0xC2, 0x0F]),
        id="patch",
    ),
    pytest.param(
        # A counter: e = 0, g = 5 -> [20, 21, ..., 25]. Delta [20, 1, 1, 1, 1, 1] around the
        # median 1 (zigzag 2) is [19, 0, 0, 0, 0, 0]; its zigzag 38 (0x26) becomes one patch at
        # position 0 on top of width 0: 16 bits, less than plain (width 3, 18 bits).
        [100.0, 105.0, 110.0, 115.0, 120.0, 125.0],
        bytes([0, DELTA, 0, 5, 2, 1, 0, 0, 0x26]),
        id="counter",
    ),
]


@pytest.mark.parametrize("values, expected", KNOWN_VECTORS)
def test_known_vectors(values, expected):
    assert encode_decimal(np.array(values)) == expected
    np.testing.assert_array_equal(patterns(decode_decimal(expected, len(values))), patterns(values))


def test_worked_example_stats():
    stats = decimal_stats([1.5, 2.25, 3.0])
    assert stats["exponent"] == 2 and stats["factor"] == 75 and stats["transform"] == "plain"
    assert stats["width"] == 2 and stats["exceptions"] == 0 and stats["bytes"] == 8


def test_empty():
    assert encode_decimal(np.zeros(0)) == b""
    assert decode_decimal(b"", 0).size == 0


# The exponent --------------------------------------------------------------------------------------


def test_smallest_exponents():
    values = np.array([3.0, 0.5, 0.25, 0.134, 11.529000000000002, np.nan, -0.0, 0.1 + 0.2])
    # 11.529000000000002 is 11529000000000002 / 10**15: it fits, at a price of 54 bits.
    expected = [0, 1, 2, 3, 15, NO_EXPONENT, NO_EXPONENT, 17]
    np.testing.assert_array_equal(smallest_exponents(values), expected)


def smallest_exponent_one_by_one(value):
    """The oracle: the first e at which `decimal_ints` gives the value back, or NO_EXPONENT."""
    for exponent in range(E_MAX + 1):
        if decimal_ints(np.array([value]), exponent)[1][0]:
            return exponent
    return NO_EXPONENT


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-10**9, 10**9).map(lambda k: k / 1000),
                          st.integers(0, 2**64 - 1).map(lambda bits: float(np.uint64(bits).view(np.float64)))),
                min_size=0, max_size=40),
       st.integers(0, 700))
def test_smallest_exponents_match_each_value_tried_alone(values, repeats):
    # short decimals, full-precision floats and any bit pattern; repeated up to 700 values, so that
    # both the pass per exponent and the all-exponents-at-once rows (at most FEW_PENDING) are used
    expected = np.array([smallest_exponent_one_by_one(value) for value in values], dtype=np.int64)
    count = min(len(values) * repeats, 700)
    found = smallest_exponents(np.resize(np.array(values, dtype=np.float64), count))
    assert found.tolist() == np.resize(expected, count).tolist()


def test_exponent_ignores_a_few_long_values():
    values = np.round(np.random.default_rng(1).uniform(0, 100, 1000), 2)
    values[::100] = 0.1 + 0.2  # needs 17 digits
    assert choose_exponent(values) == 2


def test_exponent_is_at_most_e_max():
    assert 0 <= choose_exponent(np.random.default_rng(2).normal(size=500)) <= E_MAX


# Exceptions survive bit for bit -----------------------------------------------------------------

SPECIAL = from_patterns(
    0x7FF8000000000000,  # quiet NaN
    0x7FF8000000000001,  # NaN with a payload
    0xFFF8000000000000,  # negative NaN
    0x7FF0000000000001,  # signalling NaN
    0x7FF4000000ABCDEF,  # signalling NaN, another payload
    0x8000000000000000,  # -0.0
    0x7FF0000000000000,  # +inf
    0xFFF0000000000000,  # -inf
    0x0000000000000001,  # smallest subnormal
    0x000FFFFFFFFFFFFF,  # largest subnormal
    0x7FEFFFFFFFFFFFFF,  # largest finite
)


@pytest.mark.parametrize("value", list(SPECIAL) + [0.1 + 0.2, 11.529000000000002, 2.0**53 + 2, 2.0**62,
                                                   2.0**63 - 1024, 2.0**63, -2.0**63, 1e300, -1e-300])
def test_special_value_in_a_calm_block(value):
    values = np.round(np.linspace(10, 20, 64), 2)
    values[17] = value
    assert_round_trip(values)
    assert_round_trip([value])
    assert_round_trip([value, value, 1.0])


def test_all_special_values_together():
    assert_round_trip(SPECIAL)
    assert_round_trip(np.tile(SPECIAL, 50))


def test_large_integers():
    big = np.array([2.0**53 + 2, 2.0**60, 2.0**63 - 1024, -(2.0**62), 9.007199254740993e15])
    assert_round_trip(big)
    assert decimal_stats(big)["exceptions"] == 0


def test_one_wild_value_costs_a_few_bytes():
    calm = np.round(50 + np.cumsum(np.random.default_rng(3).normal(0, 0.3, 1024)), 2)
    calm_bytes = len(encode_decimal(calm))
    for wild_value in (11.529000000000002, np.nan, 1e300, -0.0, 1e6):
        wild = calm.copy()
        wild[500] = wild_value
        wild_bytes = len(assert_round_trip(wild))
        assert wild_bytes - calm_bytes <= 16, wild_value


def test_counter_restart_is_a_patch_not_a_wider_block():
    rng = np.random.default_rng(4)
    counter = np.cumsum(rng.poisson(1000, 1024)).astype(np.float64) + 5e6
    restarted = counter.copy()
    restarted[600:] -= counter[599]
    assert len(assert_round_trip(restarted)) - len(encode_decimal(counter)) <= 12


# Realistic shapes are small and exact --------------------------------------------------------------


def test_decimal_data_beats_gorilla():
    rng = np.random.default_rng(5)
    cases = {
        "two decimals": np.round(40 + rng.normal(0, 4, 1024), 2),
        "counter": np.cumsum(rng.poisson(500, 1024)).astype(np.float64),
        "pages": (1e6 + np.cumsum(rng.integers(-200, 201, 1024))) * 4096,
        "integers": rng.integers(0, 100, 1024).astype(np.float64),
    }
    for name, values in cases.items():
        blob = assert_round_trip(values)
        assert len(blob) < 0.7 * len(encode_values(values)), name


def test_common_factor_removes_page_size():
    pages = (1e6 + np.cumsum(np.random.default_rng(6).integers(-200, 201, 1024))) * 4096
    stats = decimal_stats(pages)
    assert stats["factor"] % 4096 == 0 and stats["width"] <= 10


def test_constant_and_ramp_cost_almost_nothing():
    assert len(assert_round_trip(np.full(1000, 12.75))) < 16
    assert len(assert_round_trip(np.arange(1000) * 0.5 + 3)) < 16


def test_large_array_round_trips_through_the_chunked_packer():
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(0, 100, 100_003), 3)
    values[rng.integers(0, values.size, 50)] = np.nan
    assert_round_trip(values)


# Properties ----------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.uint64, st.integers(0, 80)))
def test_any_bit_patterns_round_trip(bits):
    assert_round_trip(bits.view(np.float64))


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 80), elements=st.floats(-1e6, 1e6)),
    st.integers(0, 6),
)
def test_decimal_looking_values_round_trip(values, digits):
    assert_round_trip(np.round(values, digits))


@settings(max_examples=100, deadline=None)
@given(st.integers(-(2**40), 2**40), hnp.arrays(np.int64, st.integers(1, 80), elements=st.integers(0, 10**6)))
def test_counters_round_trip(start, increments):
    assert_round_trip((start + np.cumsum(increments)).astype(np.float64))


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(1, 100))
def test_constant_round_trips(value, count):
    assert_round_trip(np.full(count, value))


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.int64, st.integers(1, 80), elements=st.integers(-(2**63) + 1, 2**63 - 1)))
def test_integer_valued_round_trip(ints):
    assert_round_trip(ints.astype(np.float64))


def test_position_gaps():
    np.testing.assert_array_equal(position_gaps(np.array([3, 4, 10])), [3, 0, 5])


# Damaged input ---------------------------------------------------------------------------------


def sample_blobs():
    rng = np.random.default_rng(8)
    calm = np.round(20 + np.cumsum(rng.normal(0, 1, 300)), 2)
    calm[[5, 77]] = [np.nan, 11.529000000000002]
    calm[150] = 1e9  # a patch
    return [(encode_decimal(calm), calm.size), (encode_decimal(SPECIAL), SPECIAL.size),
            (KNOWN_VECTORS[2].values[1], 10)]


def test_every_truncation_is_refused():
    for blob, count in sample_blobs():
        for end in range(len(blob)):
            with pytest.raises(FormatError):
                decode_decimal(blob[:end], count)


def test_trailing_bytes_and_wrong_counts_are_refused():
    for blob, count in sample_blobs():
        with pytest.raises(FormatError):
            decode_decimal(blob + b"\x00", count)
        for bad_count in (-1, 0, MAX_COUNT + 1, 2**40, 1.5, True, "3"):
            with pytest.raises(FormatError):
                decode_decimal(blob, bad_count)


@pytest.mark.parametrize("blob", [
    bytes([E_MAX + 1, 0, 0, 1, 0, 0, 0]),  # exponent out of range
    bytes([0, 3, 0, 1, 0, 0, 0]),  # unknown transform
    bytes([0, 0, 65, 1, 0, 0, 0]),  # width above 64
    bytes([0, 0, 0, 0, 0, 0, 0]),  # common factor 0
    bytes([0, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0]),  # absurd patch count
    bytes([0, 0, 0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F]),  # absurd exception count
    bytes([0, 0, 0, 1, 0, 1, 0, 10, 1]),  # patch position beyond the block
    bytes([0, 0, 1, 1, 0, 1, 0, 0, 0]) + b"\xff" * 9 + b"\x01",  # patch high bits beyond 64 bits
    bytes([0, 0, 64, 1, 0, 1, 0]) + bytes(80) + b"\x00\x01",  # patch in a 64-bit wide block
    bytes([0, 0, 0, 1, 0, 0, 1, 0]) + bytes(7),  # exception pattern truncated
    bytes([0, 0, 0, 1, 0, 0, 1, 200]) + bytes(8),  # exception position beyond the block
    bytes([0, 0, 0, 1, 0, 0, 0, 0x80]),  # unterminated varint
    bytes([0, 0, 0, 0xFF] * 4),  # varints running off the end
    b"",
])
def test_malformed_blobs_are_refused(blob):
    with pytest.raises(FormatError):
        decode_decimal(blob, 10)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 200))
def test_garbage_decodes_or_raises_format_error(blob, count):
    try:
        values = decode_decimal(blob, count)
    except FormatError:
        return
    assert values.size == count


def test_exponent_18_is_read_and_19_refused_by_every_decimal_codec():
    # One value, 1 / 10**18: the integer 1 (zigzag 2) at the largest exponent.
    decimal = [0, 0, 1, 2, 0, 0]  # transform plain, width 0; g 1, zigzag(1) = 2, no patches or exceptions
    decimal_bins = bytes([0, 1, 2, 0]) + bytes([0, 0, 1, 0])  # plain; g 1, base 2, none; residual bins: 0
    decimal_planes = bytes([0, 1, 2, 0]) + bytes([0, 0, 0, 0])  # the same, a plane stream of width 0
    for exponent, readable in ((E_MAX, True), (E_MAX + 1, False)):
        blobs = [(decode_decimal, bytes([exponent] + decimal)),
                 (lambda b, n: decode_values_tagged(DECIMAL_BINS, b, n), bytes([exponent]) + decimal_bins),
                 (lambda b, n: decode_values_tagged(DECIMAL_PLANES, b, n), bytes([exponent]) + decimal_planes)]
        for decode, blob in blobs:
            if readable:
                assert decode(blob, 1).tolist() == [1e-18]
            else:
                with pytest.raises(FormatError, match="exponent"):
                    decode(blob, 1)
    assert E_MAX == 18


@pytest.mark.parametrize("high, readable", [(0b1111, True), (0b1_0000, False)])
def test_a_patch_may_fill_the_64_bits_above_its_field_and_no_more(high, readable):
    # Width 60, one value: its packed field 0 (8 bytes), one patch at gap 0 whose high bits go above
    # bit 60. Four bits fit; a fifth would be bit 64.
    blob = bytes([0, PLAIN, 60]) + bytes([1, 0, 1, 0]) + bytes(8) + bytes([0, high])
    if readable:
        residual = 0b1111 << 60  # zigzag of 15 << 59, a positive integer
        assert decode_decimal(blob, 1).tolist() == [float(residual >> 1)]
    else:
        with pytest.raises(FormatError, match="patch"):
            decode_decimal(blob, 1)


def test_one_value_has_its_own_common_factor():
    # 300.0 at e = 0: the integer 300, its own factor; what is left is 1, zigzag 2: no bits at all.
    blob = encode_decimal(np.array([300.0]))
    assert blob == bytes([0, PLAIN, 0]) + bytes([0xAC, 0x02, 2, 0, 0])
    assert decode_decimal(blob, 1).tolist() == [300.0]


def test_a_64_bit_wide_block_is_read():
    # Width 64, one value: its residual 2 (zigzag of 1) in 8 bytes, MSB first.
    blob = bytes([0, PLAIN, 64]) + bytes([1, 0, 0, 0]) + (2).to_bytes(8, "big")
    assert decode_decimal(blob, 1).tolist() == [1.0]
    with pytest.raises(FormatError, match="width"):
        decode_decimal(bytes([0, PLAIN, 65]) + bytes([1, 0, 0, 0]) + bytes(9), 1)


def test_minus_2_to_the_63_is_an_exception_not_a_decimal():
    # Its magnitude is 2**63, which the scaled integers must stay below (the docstring's rule).
    values = np.array([1.0, -(2.0**63), 2.0])
    ints, fits = decimal_ints(values, 0)
    assert fits.tolist() == [True, False, True]
    assert decimal_stats(values)["exceptions"] == 1
    assert_round_trip(values)


def test_exceptions_at_the_start_take_the_first_fitting_integer():
    # [?, ?, 10, 13]: the two leading exceptions get 10, so the deltas around them are 0.
    filled = fill_exceptions(np.array([7, 8, 10, 13]), np.array([False, False, True, True]))
    assert filled.tolist() == [10, 10, 10, 13]


@pytest.mark.parametrize("gaps, count, readable", [([5, 3], 10, True), ([5, 4], 10, False), ([9], 10, True),
                                                   ([10], 10, False)])
def test_a_position_may_be_the_last_of_the_block_and_no_further(gaps, count, readable):
    # Gaps [5, 4]: positions 5 and 10, one past the end of a block of 10.
    if readable:
        assert positions_from_gaps(np.array(gaps, dtype=np.uint64), count, "exception").tolist()[-1] <= count - 1
    else:
        with pytest.raises(FormatError, match="outside a block of 10"):
            positions_from_gaps(np.array(gaps, dtype=np.uint64), count, "exception")


def test_an_exception_at_the_last_position_of_a_block_decodes():
    values = np.full(10, 1.5)
    values[9] = np.nan
    blob = assert_round_trip(values)
    assert decimal_stats(values)["exceptions"] == 1
    with pytest.raises(FormatError, match="outside"):
        decode_decimal(blob, 9)


def test_a_block_of_max_count_values_is_written_and_one_more_refused(monkeypatch):
    import lib.codecs.decimal as decimal
    monkeypatch.setattr(decimal, "MAX_COUNT", 3)
    assert encode_decimal(np.ones(3))
    with pytest.raises(ValueError, match="at most 3"):
        encode_decimal(np.ones(4))
