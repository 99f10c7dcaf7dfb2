"""multiple-bins (tag 10), float32-bins (tag 11), their shared adjusted integers and the step finder:
hand-worked vectors, round trips of any bit pattern, the step found on exporters' arithmetic,
and damaged streams refused."""
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.bitstream.varint import encode_varints, zigzag_decode
from lib.codecs.adjusted import adjusted_bytes, adjusted_parts, move_by_zigzag_steps
from lib.codecs.bins import encode_bins
from lib.codecs.choice import encode_values_best
from lib.codecs.float32_bins import (
    decode_float32_bins, encode_float32_bins, floats_from_ordered_float32, ordered_float32, widened_float32,
)
from lib.codecs.multiple_bins import (
    DIVIDE, FLOAT32, MULTIPLY, Arithmetic, candidate_arithmetics, choose_arithmetic, decimal_is_finest,
    decode_multiple_bins, encode_multiple_bins, parts_with,
)
from lib.codecs.registry import FLOAT32_BINS, MULTIPLE_BINS, decode_values_tagged, tag_name
from lib.codecs.steps import approximate_gcds, common_step, decimal_divisor, sample_of, snapped_steps
from lib.codecs.transforms import float_steps, float_steps_reference, moved_by_steps, moved_by_steps_reference
from lib.data.dataset import Series
from lib.errors import FormatError
from lib.storage.metrics_file import read_file
from lib.storage.streaming_writer import write_file
from tests.conftest import small_slices
from tests.value_checks import same_bits


def encode_with(values, arithmetic):
    """A multiple-bins block written with a given arithmetic, as encode_multiple_bins writes its choice."""
    values = np.asarray(values, dtype=np.float64)
    return arithmetic.header() + adjusted_bytes(parts_with(values, arithmetic))


# Adjustments: steps between floats, modulo 2**64 ---------------------------------------------------


def test_float_steps_count_representable_floats_between():
    assert float_steps([0.1 + 0.2], [0.3]).tolist() == [1]  # 0.30000000000000004 is the next float
    assert float_steps([0.0], [-0.0]).tolist() == [1]
    assert float_steps([5e-324], [0.0]).tolist() == [1]  # the smallest subnormal
    assert float_steps([1.0], [np.nextafter(1.0, 2.0)]).tolist() == [-1]


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=20),
       st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=20))
def test_any_pattern_is_reached_from_any_other(targets, starts):
    size = min(len(targets), len(starts))
    target = np.array(targets[:size], dtype=np.uint64).view(np.float64)
    start = np.array(starts[:size], dtype=np.uint64).view(np.float64)
    assert same_bits(moved_by_steps(start.copy(), float_steps(target, start)), target)


def test_moving_across_zero_and_past_the_last_positive_nan():
    # positive floats move as their patterns do, until a move leaves the positive patterns
    assert same_bits(moved_by_steps(np.array([1.0]), np.array([1])), np.array([np.nextafter(1.0, 2.0)]))
    assert moved_by_steps(np.array([0.0, 2.0]), np.array([-1, 0])).view(np.uint64).tolist() == [2**63, 2**62]
    last_nan = np.array([2**63 - 1], dtype=np.uint64).view(np.float64)
    assert moved_by_steps(last_nan, np.array([1])).view(np.uint64).tolist() == [2**64 - 1]  # the first ordered NaN
    assert float_steps(np.array([-0.0, 1.0]), np.array([0.0, 1.0])).tolist() == [-1, 0]


_SIGNS = st.sampled_from([0, 2**63])  # patterns of one sign or of both


@given(st.lists(st.tuples(st.integers(0, 2**63 - 1), st.integers(-2**10, 2**10), _SIGNS), min_size=1, max_size=30),
       st.integers(0, 2**63 - 1), st.integers(-2**63, 2**63 - 1))
def test_steps_of_positive_floats_agree_with_the_ordered_integers(rows, far_pattern, far_step):
    # the fast paths (patterns of positive floats) against the references (ordered integers),
    # on small steps, steps across zero and past the NaNs, and mixed signs
    patterns = np.array([pattern | sign for pattern, _, sign in rows] + [far_pattern], dtype=np.uint64)
    steps = np.array([step for _, step, _ in rows] + [far_step], dtype=np.int64)
    for chosen in (patterns, patterns & np.uint64(2**63 - 1)):  # as drawn, and every one positive
        start = chosen.view(np.float64)
        moved = moved_by_steps(start.copy(), steps)
        assert same_bits(moved, moved_by_steps_reference(start.copy(), steps))
        assert float_steps(moved, start).tolist() == float_steps_reference(moved, start).tolist() == steps.tolist()


# Float32 bins --------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.booleans()), min_size=1, max_size=60))
def test_moving_by_steps_in_place_agrees_with_moving_each_value(rows):
    # any bit patterns moved by any zigzag steps, some of them 0: as a whole array (most values
    # move) and as (positions, steps) of the non-zero ones, in place, as value-by-value
    values = np.array([bits for bits, _, _ in rows], dtype=np.uint64).view(np.float64)
    steps = np.array([step if moves else 0 for _, step, moves in rows], dtype=np.uint64)
    expected = [moved_by_steps(values[i:i + 1], zigzag_decode(steps[i:i + 1])) for i in range(values.size)]
    expected = np.concatenate(expected)
    dense, sparse, positions = values.copy(), values.copy(), np.flatnonzero(steps)
    with small_slices():  # a few values a slice: every slice's offset is used
        move_by_zigzag_steps(dense, steps.copy())
        move_by_zigzag_steps(sparse, (positions, steps[positions].copy()))
    assert same_bits(dense, expected) and same_bits(sparse, expected)
    assert same_bits(dense[steps == 0], values[steps == 0])


def test_ordered_float32_of_hand_worked_values():
    # 1.5f is 0x3FC00000: positive, so the sign bit is set; -1.5f is 0xBFC00000, inverted.
    assert ordered_float32([1.5, -1.5, 0.0, -0.0]).tolist() == [0xBFC00000, 0x403FFFFF, 0x80000000, 0x7FFFFFFF]


def test_ordered_float32_sorts_like_the_floats_and_inverts():
    values = np.array([-np.inf, -3.5, -1e-40, -0.0, 0.0, 1e-45, 1.0, 3.4e38, np.inf])
    ordered = ordered_float32(values)
    assert (np.diff(ordered) > 0).all()
    assert same_bits(floats_from_ordered_float32(ordered), values.astype(np.float32).astype(np.float64))


def test_float32_readings_cost_their_float32_steps_not_64_bits():
    volts = (230 + np.cumsum(np.random.default_rng(0).integers(-3, 4, 2000)) * 0.1).astype(np.float32)
    values = volts.astype(np.float64)
    blob = encode_float32_bins(values)
    assert same_bits(decode_float32_bins(blob, values.size), values)
    assert len(blob) < 2 * values.size  # steps of 6,553 float32 ULPs: under 16 bits each


def test_a_float32_printed_with_16_digits_comes_back_exactly():
    printed = np.array([float(f"{float(np.float32(x)):.16g}") for x in np.linspace(0, 50, 500)])
    assert not same_bits(printed, printed.astype(np.float32).astype(np.float64))  # some are not float32
    blob = encode_float32_bins(printed)
    assert same_bits(decode_float32_bins(blob, printed.size), printed)


# Multiple bins -----------------------------------------------------------------------------------------


def test_rates_over_285_seconds_by_hand():
    values = np.array([1, 2, 2]) / 285
    blob = encode_with(values, Arithmetic(divisor=285))
    assert blob[:3] == bytes([DIVIDE]) + bytes([0x9D, 0x02])  # 285 = 0b10_0011101 as a varint
    assert blob[3] == 0  # plain transform, no adjustments: k / 285 gives every value back
    assert same_bits(decode_multiple_bins(blob, 3), values)


def test_a_hand_built_stream_decodes_to_its_arithmetic():
    # MULTIPLY by 0.25 as float32, k = 4, 5, 7 stored plain around base 5 (zigzag residuals 1, 0, 4),
    # and the third value moved one float64 step up.
    residuals = encode_bins(np.array([1, 0, 4], dtype=np.uint64))
    adjustments = encode_bins(np.array([0, 0, 2], dtype=np.uint64))  # zigzag(+1) = 2
    blob = (bytes([MULTIPLY | FLOAT32]) + struct.pack("<d", 0.25) + bytes([0x80]) + encode_varints([1, 10])
            + residuals + adjustments)
    assert same_bits(decode_multiple_bins(blob, 3), np.array([1.0, 1.25, np.nextafter(1.75, 2.0)]))


@pytest.mark.parametrize("arithmetic", [Arithmetic(divisor=3), Arithmetic(divisor=2**53), Arithmetic(factor=0.3),
                                        Arithmetic(factor=-1e300), Arithmetic(divisor=10, float32=True),
                                        Arithmetic(factor=2.0**-10, float32=True)])
@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=40))
def test_any_bit_patterns_round_trip_with_any_arithmetic(arithmetic, bits):
    values = np.array(bits, dtype=np.uint64).view(np.float64)
    assert same_bits(decode_multiple_bins(encode_with(values, arithmetic), values.size), values)


CODECS = ((encode_multiple_bins, decode_multiple_bins), (encode_float32_bins, decode_float32_bins))
SPECIALS = [0.0, -0.0, np.inf, -np.inf, 5e-324, 1.7976931348623157e308]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10**6), st.lists(st.integers(-10**9, 10**9), min_size=0, max_size=60),
       st.sampled_from(["divide", "multiply", "float32"]), st.lists(st.sampled_from(SPECIALS + [np.nan]), max_size=3))
def test_exporters_multiples_round_trip_through_the_choice(step, ks, how, extra):
    ks = np.array(ks, dtype=np.float64)
    values = {"divide": ks / step, "multiply": ks * (1 / step),
              "float32": (ks / step).astype(np.float32).astype(np.float64)}[how]
    values = np.concatenate([values, np.array(extra, dtype=np.float64)])
    for encode, decode in CODECS:
        blob = encode(values)
        if blob is not None:
            assert same_bits(decode(blob, values.size), values)
    tag, blob = encode_values_best(values)
    assert same_bits(decode_values_tagged(tag, blob, values.size), values)


@pytest.mark.parametrize("values", [[], [1 / 3], [1 / 3, 2 / 3], [1 / 3, 2 / 3, 1.0, 4 / 3], [0.1] * 50,
                                    [np.nan] * 5, [-0.0, 0.0] * 3, [9.2e18, -9.2e18, 1e300]])
def test_edge_counts_and_constant_and_extreme_blocks(values):
    values = np.array(values, dtype=np.float64)
    # float32-bins and multiple-bins with a given arithmetic store any non-empty block (what no
    # integer comes near is one large adjustment); multiple-bins left to find its step may find none
    fixed = [lambda v, a=arithmetic: encode_multiple_bins(v, a) for arithmetic in
             (Arithmetic(divisor=3), Arithmetic(factor=0.3), Arithmetic(divisor=10, float32=True))]
    for encode in [encode_float32_bins, *fixed]:
        blob = encode(values)
        assert (blob is None) == (values.size == 0)
        if blob is not None:
            decode = decode_float32_bins if encode is encode_float32_bins else decode_multiple_bins
            assert same_bits(decode(blob, values.size), values)
    blob = encode_multiple_bins(values)
    assert blob is None or same_bits(decode_multiple_bins(blob, values.size), values)
    if values.size == 4:  # four thirds are enough for the step 1/3 (two are too few for pairs to agree on)
        assert blob is not None and choose_arithmetic(values).divisor == 3


# The step finder ------------------------------------------------------------------------------------


def test_euclid_on_floats_finds_their_common_step():
    larger, smaller = np.array([0.9, 7 / 285, 1.0]), np.array([0.6, 3 / 285, 1e-300])
    gcds = approximate_gcds(larger, smaller, 2.0**-52 * larger, 2.0**-52 * smaller, 2.0**-52)
    assert gcds[0] == pytest.approx(0.3, rel=1e-9) and gcds[1] == pytest.approx(1 / 285, rel=1e-9)
    assert np.isnan(gcds[2])  # no step worth having between 1 and 1e-300


def test_float32_rounding_errors_are_allowed_for_float32_values():
    # Multiples of 0.05 computed in float32 are off by up to 4e-6 at 100: with float64's tolerance
    # Euclid finds only float32's own spacing there (2**-17); with float32's, the step.
    ks = np.clip(2000 + np.cumsum(np.random.default_rng(8).integers(-5, 6, 1024)), 0, 4095)
    values = (ks.astype(np.float32) * np.float32(0.05)).astype(np.float64)
    assert common_step(values, 64) < 1e-4
    assert common_step(values, 32) == pytest.approx(0.05, rel=1e-7)


@pytest.mark.parametrize("make,expected", [
    (lambda k: k.astype(np.float32) * np.float32(0.05), Arithmetic(factor=float(np.float32(0.05)), float32=True)),
    (lambda k: k.astype(np.float32) * np.float32(100 / 4095), Arithmetic(factor=float(np.float32(100 / 4095)),
                                                                         float32=True)),
    (lambda k: (k / 3).astype(np.float32), Arithmetic(divisor=3, float32=True)),
])
def test_float32_sensor_steps_are_found_with_the_sensors_arithmetic(make, expected):
    ks = np.clip(2000 + np.cumsum(np.random.default_rng(8).integers(-5, 6, 3000)), 0, 4095)
    values = make(ks).astype(np.float64)
    chosen = choose_arithmetic(values)
    assert (chosen.divisor, chosen.factor, chosen.float32) == (expected.divisor, expected.factor, expected.float32)
    blob = encode_multiple_bins(values)
    assert same_bits(decode_multiple_bins(blob, values.size), values) and len(blob) < values.size


def test_a_rate_over_285_seconds_is_found_and_snapped_to_its_divisor():
    increases = np.cumsum(np.random.default_rng(1).integers(0, 40, 1024))
    step = common_step(increases / 285)
    assert step == pytest.approx(1 / 285, rel=1e-6)
    assert (285, None) in snapped_steps(step)
    values = increases / 285
    chosen = choose_arithmetic(values)
    assert chosen.divisor == 285 and not chosen.float32


def test_binary_fractions_snap_to_an_exact_power_of_two():
    assert (None, 2.0**-10) in snapped_steps(2.0**-10 * (1 + 1e-9))


def test_float32_tenths_are_found_as_a_decimal_of_float32s():
    tenths = np.round(np.random.default_rng(2).normal(20, 5, 1000), 1).astype(np.float32).astype(np.float64)
    assert decimal_divisor(tenths) == 10
    chosen = choose_arithmetic(tenths)
    assert chosen.float32
    blob = encode_multiple_bins(tenths)
    assert same_bits(decode_multiple_bins(blob, tenths.size), tenths)
    assert len(blob) < 2 * tenths.size


def test_a_float32_decimal_one_step_apart_is_the_finest_and_ends_the_search():
    # float32 readings of 21.7 and 21.8: k = 217 and 218 at e = 1, one apart: no step is coarser
    readings = np.array([21.7, 21.8, 21.7, 22.0], dtype=np.float32).astype(np.float64)
    decimal = Arithmetic(divisor=10, float32=True)
    assert decimal_is_finest(decimal, readings)
    assert [[(a.divisor, a.factor) for a in group] for group in candidate_arithmetics(readings)] == [[(10, None)]]
    # the same readings 0.2 apart: k = 217, 219, 221 share no factor and no two are one apart, so
    # the check cannot tell that no coarser step exists, and the full search runs (here it finds
    # no other step, and k / 10 is kept)
    assert not decimal_is_finest(decimal, np.array([21.7, 21.9, 22.1], dtype=np.float32).astype(np.float64))


def test_counts_times_a_float32_scale_are_not_a_finest_decimal():
    # counts times 100 / 4095 in float32 are decimals of 6 digits after the point whose integers
    # lie about 24,420 apart from one count to the next: the step group (k = the counts) must
    # still be tried, and it is the one chosen
    ks = np.clip(2000 + np.cumsum(np.random.default_rng(8).integers(-5, 6, 3000)), 0, 4095)
    values = (ks.astype(np.float32) * np.float32(100 / 4095)).astype(np.float64)
    groups = candidate_arithmetics(values)
    assert len(groups) == 2 and not decimal_is_finest(groups[0][0], values)
    assert choose_arithmetic(values).factor == float(np.float32(100 / 4095))


def test_a_float32_decimal_that_misses_a_float32_is_not_the_finest():
    # 0.15 as float32 is no tenth: k / 10 gives 0.2 back for it, so a finer step may do better
    values = np.array([0.1, 0.2, 0.15], dtype=np.float32).astype(np.float64)
    assert not decimal_is_finest(Arithmetic(divisor=10, float32=True), values)
    # the float64 sum 0.1 + 0.2 is not a float32, but its float32 is 0.3's: k / 10 gives that
    # back, and its distance from it is an adjustment every arithmetic of float32s shares
    assert decimal_is_finest(Arithmetic(divisor=10, float32=True), np.array([0.1, 0.2, 0.1 + 0.2]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 4), st.lists(st.integers(-3, 3), min_size=2, max_size=300), st.integers(-10**5, 10**5),
       st.sampled_from([1, 2, 5, 7]))
def test_when_the_decimal_is_finest_no_step_stores_the_block_smaller(exponent, moves, start, stride):
    # float32 readings of a decimal with `exponent` digits, moving by a few multiples of `stride`
    # decimal steps: whenever the search stops at the decimal, each arithmetic the full search
    # would have tried stores the block in at least as many bytes
    ks = start + stride * np.cumsum(moves)
    values = (ks / 10.0**exponent).astype(np.float32).astype(np.float64)
    sample = sample_of(values)
    groups = candidate_arithmetics(sample)
    if len(groups) != 1 or not decimal_is_finest(groups[0][0], sample):
        return
    decimal_size = len(encode_multiple_bins(values, groups[0][0]))
    step = common_step(widened_float32(sample), 32)
    others = [] if step is None else [Arithmetic(d, f, float32=True) for d, f in snapped_steps(step, True)]
    for arithmetic in others:
        assert decimal_size <= len(encode_multiple_bins(values, arithmetic)), arithmetic


def test_noise_has_no_step():
    assert common_step(np.random.default_rng(3).random(1024)) is None


# The choice picks them where they pay -----------------------------------------------------------------


@pytest.mark.parametrize("make,tag", [
    (lambda rng: (50 + np.cumsum(rng.normal(0, 0.3, 4000))).astype(np.float32).astype(np.float64), FLOAT32_BINS),
    (lambda rng: np.cumsum(rng.integers(0, 50, 4000)) / 285, MULTIPLE_BINS),
    (lambda rng: np.round(rng.normal(20, 5, 4000), 1).astype(np.float32).astype(np.float64), MULTIPLE_BINS),
])
def test_the_choice_picks_the_new_codecs_for_their_data(make, tag):
    values = make(np.random.default_rng(4))
    chosen, blob = encode_values_best(values)
    assert tag_name(chosen) == tag_name(tag)
    assert same_bits(decode_values_tagged(chosen, blob, values.size), values)


def test_short_decimals_stay_with_decimal_bins():
    values = np.round(np.random.default_rng(5).normal(100, 10, 2000), 2)
    assert tag_name(encode_values_best(values)[0]) == "decimal-bins"


# Damaged streams ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("header,message", [
    (bytes([0x02]), "arithmetic byte 02"), (bytes([0x40]), "arithmetic byte 40"),
    (bytes([DIVIDE]) + encode_varints([0]), "divisor 0"), (bytes([DIVIDE]) + encode_varints([2**53 + 1]), "divisor"),
    (bytes([MULTIPLY]) + struct.pack("<d", float("nan")), "factor nan"),
    (bytes([MULTIPLY]) + struct.pack("<d", 0.0), "factor 0.0"), (bytes([MULTIPLY, 0, 0]), "truncated"),
])
def test_bad_arithmetic_is_refused_by_name(header, message):
    body = adjusted_bytes(adjusted_parts(np.ones(3), np.ones(3, dtype=np.int64), np.ones(3, dtype=bool),
                                         lambda ints: ints.astype(np.float64)))
    with pytest.raises(FormatError, match=message):
        decode_multiple_bins(header + body, 3)


def test_every_truncation_and_byte_flip_is_refused_or_decodes_to_count_values():
    rng = np.random.default_rng(6)
    values = np.concatenate([np.cumsum(rng.integers(0, 9, 60)) / 285, [np.nan, np.inf]])
    for decode, blob in ((decode_multiple_bins, encode_multiple_bins(values)),
                         (decode_float32_bins, encode_float32_bins(values))):
        for length in range(len(blob)):
            with pytest.raises(FormatError):
                decode(blob[:length], values.size)
        with pytest.raises(FormatError):
            decode(blob + b"\x00", values.size)
        for position in range(len(blob)):
            for mask in (0x01, 0x80, 0xFF):
                damaged = bytearray(blob)
                damaged[position] ^= mask
                try:
                    assert decode(bytes(damaged), values.size).shape == values.shape
                except FormatError:
                    pass


def test_a_file_of_float32_and_rate_series_reads_back_exactly_and_damage_is_caught(tmp_path):
    rng = np.random.default_rng(7)
    timestamps = 1_700_000_000_000 + 15_000 * np.arange(3000, dtype=np.int64)
    series = [Series("volts", {"phase": "a"}, timestamps,
                     (230 + np.cumsum(rng.normal(0, 0.2, 3000))).astype(np.float32).astype(np.float64)),
              Series("rate", {}, timestamps, np.cumsum(rng.integers(0, 30, 3000)) / 285)]
    path = tmp_path / "m.bin"
    write_file(path, series, block_points=1000)
    restored = read_file(path)
    for original, back in zip(sorted(series, key=lambda s: s.name), sorted(restored, key=lambda s: s.name)):
        assert same_bits(original.values, back.values)
    data = path.read_bytes()
    for position in range(16, len(data) - 24, 97):
        damaged = bytearray(data)
        damaged[position] ^= 0x10
        path.write_bytes(bytes(damaged))
        with pytest.raises(FormatError):
            read_file(path)
