import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.bitstream.varint import encode_varints
from lib.codecs.batched_bins import drive
from lib.codecs.limits import MAX_COUNT, max_stream_bytes
from lib.codecs.selection import (
    CODECS, PLANE_CODECS, _no_exceptions, batched_value_decoder, codec_usage, decode_blocks,
    decode_timestamps_tagged, decode_values_tagged, encode_blocks_best, encode_timestamps_best,
    encode_values_best, finish_batched_values, tag_name, value_candidates,
)
from lib.codecs.stages import STAGES
from lib.codecs.tags import (
    CONSTANT, DECIMAL, DECIMAL_BINS, DECIMAL_PLANES, DICTIONARY, GORILLA, LZMA, ORDERED, ORDERED_BINS, RUNS,
    STAGE_MASK, TIMESTAMP_BINS, TIMESTAMP_GORILLA, TIMESTAMP_UNITS, ZLIB,
)
from lib.codecs.values import ADJUSTED, floats_from_ordered, ordered_integers
from lib.errors import FormatError
from lib.plumbing.bounded_compression import deflate
from tests.conftest import MEMORY_COUNT, assert_decodes_within, small_slices


def patterns(values):
    return np.asarray(values, dtype=np.float64).view(np.uint64)


def round_trip(values, entropy=False):
    values = np.asarray(values, dtype=np.float64)
    tag, blob = encode_values_best(values, entropy=entropy)
    np.testing.assert_array_equal(patterns(decode_values_tagged(tag, blob, values.size)), patterns(values))
    return tag, blob


RNG = np.random.default_rng(11)


# The registry --------------------------------------------------------------------------------------


def test_tags_and_names_are_unique_and_fit_their_masks():
    assert sorted(CODECS) == [GORILLA, DECIMAL, CONSTANT, RUNS, ORDERED, DECIMAL_PLANES, ORDERED_BINS, DECIMAL_BINS, DICTIONARY]
    assert len({codec.name for codec in CODECS.values()}) == len(CODECS)
    assert all(tag & STAGE_MASK == 0 for tag in CODECS)
    assert all(flag & ~STAGE_MASK == 0 for flag in STAGES)
    assert tag_name(DECIMAL | ZLIB) == "decimal+zlib"
    assert tag_name(GORILLA | LZMA) == "gorilla+lzma"


# The choice ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, expected", [
    pytest.param(np.round(40 + RNG.normal(0, 4, 1024), 2), DECIMAL_BINS, id="two-decimals"),
    pytest.param(np.cumsum(RNG.poisson(800, 1024)).astype(np.float64), DECIMAL_BINS, id="counter"),
    # Full-precision floats are a 17-digit decimal plus a few adjustment steps: smaller than ordered.
    pytest.param(RNG.normal(0.1, 0.02, 1024), DECIMAL_BINS, id="full-precision-noise"),
    pytest.param(np.cumsum(RNG.normal(0, 1e-300, 1024)), ORDERED_BINS, id="tiny-random-walk"),
    pytest.param(np.full(1024, 0.1 + 0.2), CONSTANT, id="constant"),
    pytest.param(np.full(10, np.nan), CONSTANT, id="constant-nan"),
    pytest.param(np.repeat(RNG.normal(size=8), 128), RUNS, id="runs-of-full-precision"),
])
def test_choice(values, expected):
    tag, _ = round_trip(values)
    assert tag == expected


def test_best_is_the_smallest_candidate():
    values = np.round(RNG.normal(10, 1, 500), 1)
    tag, blob = encode_values_best(values)
    assert len(blob) == min(len(b) for _, b in value_candidates(values))


def test_empty_block():
    tag, blob = round_trip(np.zeros(0))
    assert blob == b""


# Round trips ---------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.uint64, st.integers(0, 60)), st.booleans())
def test_any_bit_patterns_round_trip(bits, entropy):
    round_trip(bits.view(np.float64), entropy)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e4, 1e4)),
    st.integers(0, 4),
    st.booleans(),
)
def test_decimal_looking_values_round_trip(values, digits, entropy):
    round_trip(np.round(values, digits), entropy)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.uint64, st.integers(1, 8)), st.integers(1, 40), st.booleans())
def test_repeated_patterns_round_trip(bits, repeat, entropy):
    round_trip(np.repeat(bits.view(np.float64), repeat), entropy)


def test_blocks_round_trip_and_report():
    values = np.concatenate([
        np.round(RNG.normal(50, 5, 3000), 2),
        RNG.normal(0.1, 0.02, 2000),
        np.full(1700, 0.1 + 0.2),  # not a short decimal: CONSTANT beats DECIMAL here
    ])
    blocks = encode_blocks_best(values, block_size=1000)
    assert [count for _, _, count in blocks] == [1000] * 6 + [700]
    np.testing.assert_array_equal(patterns(decode_blocks(blocks)), patterns(values))
    usage = codec_usage(blocks)
    assert usage["decimal-bins"]["blocks"] == 5
    assert usage["constant"]["blocks"] == 2 and usage["constant"]["values"] == 1700
    assert sum(row["bytes"] for row in usage.values()) == sum(len(blob) for _, blob, _ in blocks)
    assert sum(row["values"] for row in usage.values()) == values.size
    assert decode_blocks([]).size == 0


# The entropy stage ---------------------------------------------------------------------------------


def test_entropy_is_used_only_when_smaller():
    cases = (np.round(RNG.normal(50, 5, 1024), 2), RNG.normal(size=1024), np.tile(RNG.normal(size=7), 150),
             np.full(1024, 0.1 + 0.2))  # constant: 8 bytes that no compressor can shrink
    branches = set()
    for values in cases:
        plain_tag, plain_blob = encode_values_best(values, entropy=False)
        tag, blob = round_trip(values, entropy=True)
        assert len(blob) <= len(plain_blob)
        if tag & STAGE_MASK or tag in PLANE_CODECS:
            assert len(blob) < len(plain_blob)
            branches.add("compressed")
        else:
            assert len(blob) == len(plain_blob) if tag == plain_tag else len(blob) < len(plain_blob)
            branches.add("plain")
    assert branches == {"compressed", "plain"}


def test_entropy_wins_on_a_repeating_cycle():
    values = np.tile(RNG.normal(size=7), 150)  # no decimals, no runs, but a period zlib can see
    tag, blob = round_trip(values, entropy=True)
    assert tag & STAGE_MASK or tag in PLANE_CODECS
    assert 4 * len(blob) < len(encode_values_best(values)[1])


@pytest.mark.parametrize("stage", [ZLIB, LZMA])
def test_single_stage_can_be_chosen(stage):
    values = np.tile(RNG.normal(size=5), 100)
    tag, _ = round_trip(values, entropy=(stage,))
    assert tag & STAGE_MASK in (0, stage)
    with pytest.raises(ValueError):
        encode_values_best(values, entropy=(0x40,))


@pytest.mark.parametrize("stage", [ZLIB, LZMA])
def test_decompression_is_bounded(stage):
    bomb = STAGES[stage].compress(bytes(max_stream_bytes(10) + 1))
    with pytest.raises(FormatError):
        decode_values_tagged(DECIMAL | stage, bomb, 10)


@pytest.mark.parametrize("stage", [ZLIB, LZMA])
def test_damaged_compressed_streams_are_refused(stage):
    _, inner = encode_values_best(np.round(RNG.normal(50, 5, 200), 2))
    compressed = STAGES[stage].compress(inner)
    for bad in (compressed[: len(compressed) // 2], compressed + b"junk", b"\xff" * 20, b""):
        with pytest.raises(FormatError):
            decode_values_tagged(DECIMAL | stage, bad, 200)


# Damaged input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", [0, 5, 15, 0x30, 0x41, 0x80 | DECIMAL, 256, -1, True, "2", None, 2.0])
def test_unknown_tags_are_refused(tag):
    with pytest.raises(FormatError):
        decode_values_tagged(tag, b"", 0)
    with pytest.raises(FormatError):
        decode_timestamps_tagged(tag if tag != 0x80 | DECIMAL else 7, b"", 0)


def test_truncated_blocks_are_refused():
    cases = [
        np.round(RNG.normal(50, 5, 100), 2),
        RNG.normal(size=100),
        np.full(100, 3.25),
        np.repeat(RNG.normal(size=4), 25),
    ]
    for values in cases:
        tag, blob = encode_values_best(values)
        for end in range(len(blob)):
            with pytest.raises(FormatError):
                decode_values_tagged(tag, blob[:end], values.size)
        with pytest.raises(FormatError):
            decode_values_tagged(tag, blob + b"\x00", values.size)


@pytest.mark.parametrize("tag, blob, count", [
    (CONSTANT, bytes(8), 0),
    (CONSTANT, bytes(8), MAX_COUNT + 1),
    (RUNS, bytes([2, 3, 3]) + bytes(16), 5),  # runs add up to 6, not 5
    (RUNS, bytes([1, 0]) + bytes(8), 0),  # a run of length 0
    (RUNS, bytes([0xFF, 0xFF, 0x03]), 5),  # more runs than values
    (GORILLA, bytes(3), 2),
])
def test_malformed_small_codecs_are_refused(tag, blob, count):
    with pytest.raises(FormatError):
        decode_values_tagged(tag, blob, count)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(CODECS) + [c | ZLIB for c in CODECS]),
    st.binary(max_size=48),
    st.integers(0, 100),
)
def test_garbage_decodes_or_raises_format_error(tag, blob, count):
    try:
        values = decode_values_tagged(tag, blob, count)
    except FormatError:
        return
    assert values.size == count


# Timestamps ---------------------------------------------------------------------------------------


def test_regular_timestamps_stay_gorilla_at_about_a_bit_per_point():
    timestamps = 1_700_000_000_000_000_000 + np.arange(1000, dtype=np.int64) * 15_000_000_000
    tag, blob = encode_timestamps_best(timestamps, entropy=True)
    np.testing.assert_array_equal(decode_timestamps_tagged(tag, blob, timestamps.size), timestamps)
    assert 8 * len(blob) <= 1000 + 128


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 60)), st.booleans())
def test_timestamps_round_trip(timestamps, entropy):
    tag, blob = encode_timestamps_best(timestamps, entropy=entropy)
    assert tag & ~STAGE_MASK == TIMESTAMP_GORILLA or tag == (TIMESTAMP_UNITS if entropy else TIMESTAMP_BINS)
    np.testing.assert_array_equal(decode_timestamps_tagged(tag, blob, timestamps.size), timestamps)



# The fast codecs: decimals with adjustments, dictionaries ----------------------------------------


def test_floats_one_step_from_a_decimal_cost_bits_not_exceptions():
    decimals = np.round(RNG.uniform(0, 100, 1000), 3)
    steps = RNG.choice([-1, 0, 0, 1], 1000)  # 51.846000000000004 is 51.846 plus one step
    values = floats_from_ordered(ordered_integers(decimals) + steps)
    assert (values != decimals).sum() > 400
    tag, blob = round_trip(values)
    assert tag == DECIMAL_BINS
    assert blob[1] & ADJUSTED and _no_exceptions(blob)
    assert 8 * len(blob) < 24 * values.size  # 17 bits of decimal + about 2 of adjustment


def test_values_no_decimal_comes_near_are_exceptions():
    values = np.round(RNG.uniform(0, 100, 500), 2)
    values[[3, 99]] = [np.nan, 1e-300]
    tag, blob = round_trip(values)
    assert tag == DECIMAL_BINS and not _no_exceptions(blob)


def test_few_distinct_values_become_a_dictionary():
    levels = np.array([33.3333, 33.4447, 33.446, 33.4427, 33.554, 100.0])
    values = levels[RNG.choice(6, 4000, p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05])]
    tag, blob = round_trip(values)
    assert tag == DICTIONARY
    assert 8 * len(blob) < 2.5 * values.size  # close to the 2.1-bit entropy of the choice


def test_dictionary_entries_cannot_be_a_dictionary_or_claim_too_much():
    with pytest.raises(FormatError):
        decode_values_tagged(DICTIONARY, bytes([1, DICTIONARY, 0]), 4)
    with pytest.raises(FormatError):
        decode_values_tagged(DICTIONARY, bytes([9, CONSTANT, 8]) + bytes(8), 4)  # 9 entries, 4 points


def test_damaged_fast_codec_streams_raise_format_error_or_give_count_values():
    decimals = np.round(RNG.normal(50, 5, 200), 2)
    cases = [
        (DECIMAL_BINS, floats_from_ordered(ordered_integers(decimals) + RNG.choice([-1, 0, 1], 200))),
        (DICTIONARY, np.repeat(decimals[:5], 40)),
        (ORDERED_BINS, np.cumsum(RNG.normal(0, 1e-300, 200))),
    ]
    for tag, values in cases:
        blob = CODECS[tag].encode(values)
        for damaged in [blob[:n] for n in range(len(blob))] + [
                bytes(b ^ flip if i == position else b for i, b in enumerate(blob))
                for position in range(len(blob)) for flip in (0x01, 0x80)]:
            try:
                decoded = decode_values_tagged(tag, damaged, values.size)
            except FormatError:
                continue
            assert decoded.size == values.size


def test_damaged_units_bins_timestamps_raise_format_error_or_give_count_values():
    timestamps = np.cumsum(RNG.choice([15, 15, 15, 30, 14, 16], 300)).astype(np.int64) * 10**9
    tag, blob = encode_timestamps_best(timestamps)
    assert tag == TIMESTAMP_BINS
    for position in range(len(blob)):
        for flip in (0x01, 0x80, 0xFF):
            damaged = bytearray(blob)
            damaged[position] ^= flip
            try:
                decoded = decode_timestamps_tagged(tag, bytes(damaged), timestamps.size)
            except FormatError:
                continue
            assert decoded.size == timestamps.size


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 6), st.one_of(
    hnp.arrays(np.int64, st.integers(1, 50), elements=st.integers(-10**9, 10**9)).map(lambda ints: ints / 1000),
    hnp.arrays(np.float64, st.integers(1, 50)),
))
def test_nearest_decimals_take_the_exact_shortcut_without_changing_the_answer(exponent, values):
    from lib.codecs.decimals import POWERS_OF_TEN, ints_to_floats
    from lib.codecs.values import ADJUST_LIMIT, nearest_decimals
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
    from lib.codecs.values import nearest_decimals

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
    from lib.codecs.values import E_MAX, adjusted_exponent_cost, adjusted_exponent_costs
    sample = np.array(values, dtype=np.float64)
    one_by_one = np.array([adjusted_exponent_cost(sample, e) for e in range(E_MAX + 1)], dtype=np.float64)
    np.testing.assert_array_equal(adjusted_exponent_costs(sample).view(np.uint64), one_by_one.view(np.uint64))


# ULP adjustments at their limit --------------------------------------------------------------------

ONE_AND_A_HALF = 0x3FF8000000000000  # 1.5: a positive float, so one step up is its pattern plus one


def steps_from_one_and_a_half(*steps):
    return np.array([ONE_AND_A_HALF + step for step in steps], dtype=np.uint64).view(np.float64)


def test_a_float_65535_steps_from_a_decimal_is_an_adjustment_and_65536_an_exception():
    from lib.codecs.values import ADJUST_LIMIT, nearest_decimals
    assert ADJUST_LIMIT == 65536
    values = steps_from_one_and_a_half(65535, -65535, 65536, -65536)
    ints, adjustments, usable = nearest_decimals(values, 1)
    assert ints.tolist() == [15] * 4
    assert usable.tolist() == [True, True, False, False]
    assert adjustments.tolist() == [65535, -65535, 0, 0]


def test_a_block_at_the_adjustment_limit_reads_back():
    from lib.codecs.values import encode_decimal_bins, read_decimal_head
    values = np.concatenate([np.full(20, 1.5), steps_from_one_and_a_half(65535, -65535, 65536, -65536)])
    blob = encode_decimal_bins(values)
    head = read_decimal_head(blob, values.size, "decimal-bins", adjustable=True)
    assert (head.exponent, head.adjusted, head.exceptions) == (1, True, 2)
    np.testing.assert_array_equal(patterns(decode_values_tagged(DECIMAL_BINS, blob, values.size)), patterns(values))


@pytest.mark.parametrize("steps, exceptions", [(65535, 0), (65536, 1)])
def test_the_exponent_cost_counts_an_adjustment_below_the_limit_and_an_exception_at_it(steps, exceptions):
    from lib.codecs.decimals import DIGIT_BITS, EXCEPTION_BITS
    from lib.codecs.values import ADJUST_COST_BITS, adjusted_exponent_cost, adjusted_exponent_costs
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


# What a decode holds at once -----------------------------------------------------------------------

ONE_BIN = bytes((0, 0, 1, 0))  # a dense bins stream, one bin: every value 0
ONES = bytes((0, 0, 1, 1))  # every value 1
ALL_NONZERO = bytes((1,)) + encode_varints([MEMORY_COUNT]) + bytes((0, 1, 0, 0, 1, 0))  # sparse: every value 1
DECIMAL_HEAD = bytes((2, 2)) + bytes((3, 0, 0))  # e 2, delta-of-delta; g 3, base 0, no exceptions


@pytest.mark.parametrize("tag, blob, results", [
    (CONSTANT, bytes(8), 1),
    (RUNS, bytes((1,)) + encode_varints([MEMORY_COUNT]) + bytes(8), 1),
    (GORILLA, bytes(8 + MEMORY_COUNT // 8), 3),  # the first value, then a '0' bit per repeat
    (DECIMAL, bytes((2, 2, 0)) + bytes((3, 0, 0, 0)), 2),  # width 0: every residual 0
    (DECIMAL_BINS, DECIMAL_HEAD + ONE_BIN, 2),
    (DECIMAL_BINS | ZLIB, deflate(DECIMAL_HEAD + ONE_BIN), 2),
    (DECIMAL_BINS, bytes((2, 2 | ADJUSTED)) + DECIMAL_HEAD[2:] + ONE_BIN + ONES, 3),
    (DECIMAL_BINS, bytes((2, 2 | ADJUSTED)) + DECIMAL_HEAD[2:] + ONE_BIN + ALL_NONZERO, 3),
    (DECIMAL_PLANES, DECIMAL_HEAD + bytes((0, 0, 0, 0)), 2),
    (ORDERED, bytes((2, 0)) + bytes((0, 0, 0, 0)), 2),
    (ORDERED_BINS, bytes((2, 0)) + ONES, 2),
    (DICTIONARY, bytes((1, CONSTANT, 8)) + bytes(8) + ONE_BIN, 2),
])
def test_a_decode_holds_a_few_times_its_result_whatever_the_count(tag, blob, results):
    values = assert_decodes_within(lambda: decode_values_tagged(tag, blob, MEMORY_COUNT), 8 * MEMORY_COUNT,
                                   len(blob), results)
    assert values.size == MEMORY_COUNT
    if tag == DECIMAL_BINS:
        (batched,) = assert_decodes_within(
            lambda: finish_batched_values(drive([batched_value_decoder(tag, blob, MEMORY_COUNT)])),
            8 * MEMORY_COUNT, len(blob), results)
        assert patterns(batched).tolist() == patterns(values).tolist()


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    hnp.arrays(np.uint64, st.integers(1, 40)).map(lambda bits: bits.view(np.float64)),
    hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(-10**6, 10**6)).map(lambda ints: ints / 100),
    st.integers(1, 40).map(lambda n: steps_from_one_and_a_half(*RNG.integers(-3, 4, n))),
))
def test_every_codec_decodes_alike_a_few_values_at_a_time(values):
    candidates = value_candidates(values) + value_candidates(values, entropy=True)
    for tag, blob in candidates:
        with small_slices():
            decoded = decode_values_tagged(tag, blob, values.size)
            batched = finish_batched_values(drive([batched_value_decoder(tag, blob, values.size)]))[0]
        assert patterns(decoded).tolist() == patterns(values).tolist() == patterns(batched).tolist(), tag_name(tag)
