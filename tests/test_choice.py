"""lib/codecs/choice.py and lib/codecs/registry.py: which codec writes a block, every tag decodes\nwhat it wrote, stages, damaged input, and what a decode holds at once."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.bitstream.varint import encode_varints
from lib.codecs.bins.batched import drive
from lib.codecs.choice import PLANE_CODECS, encode_timestamps_best, encode_values_best, value_candidates
from lib.codecs.decimal_digits import ADJUSTED, read_decimal_head
from lib.codecs.limits import MAX_COUNT, max_stream_bytes
from lib.codecs.registry import (
    CONSTANT, DECIMAL, DECIMAL_BINS, DECIMAL_PLANES, DICTIONARY, GORILLA, ORDERED, ORDERED_BINS, RUNS, STAGE_MASK,
    TIMESTAMP_BINS, TIMESTAMP_GORILLA, TIMESTAMP_UNITS, VALUE_CODECS, batched_value_decoder, decode_timestamps_tagged,
    decode_values_tagged, finish_batched_values, tag_name,
)
from lib.codecs.stages import LZMA, STAGES, ZLIB
from lib.codecs.transforms import floats_from_ordered, ordered_integers
from lib.errors import FormatError
from lib.plumbing.bounded_compression import deflate
from tests.conftest import MEMORY_COUNT, assert_decodes_within, small_slices
from tests.test_decimal_bins import steps_from_one_and_a_half


def patterns(values):
    return np.asarray(values, dtype=np.float64).view(np.uint64)


def round_trip(values, exhaustive=False):
    values = np.asarray(values, dtype=np.float64)
    tag, blob = encode_values_best(values, exhaustive=exhaustive)
    np.testing.assert_array_equal(patterns(decode_values_tagged(tag, blob, values.size)), patterns(values))
    return tag, blob


def exceptions_in(blob, count):
    """The exception count of a decimal-bins block."""
    return read_decimal_head(blob, count, "decimal-bins", adjustable=True).exceptions


RNG = np.random.default_rng(11)


# The registry --------------------------------------------------------------------------------------


def test_tags_and_names_are_unique_and_fit_their_masks():
    assert sorted(VALUE_CODECS) == [GORILLA, DECIMAL, CONSTANT, RUNS, ORDERED, DECIMAL_PLANES, ORDERED_BINS, DECIMAL_BINS, DICTIONARY]
    assert len({codec.name for codec in VALUE_CODECS.values()}) == len(VALUE_CODECS)
    assert all(tag & STAGE_MASK == 0 for tag in VALUE_CODECS)
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
def test_any_bit_patterns_round_trip(bits, exhaustive):
    round_trip(bits.view(np.float64), exhaustive)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e4, 1e4)),
    st.integers(0, 4),
    st.booleans(),
)
def test_decimal_looking_values_round_trip(values, digits, exhaustive):
    round_trip(np.round(values, digits), exhaustive)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.uint64, st.integers(1, 8)), st.integers(1, 40), st.booleans())
def test_repeated_patterns_round_trip(bits, repeat, exhaustive):
    round_trip(np.repeat(bits.view(np.float64), repeat), exhaustive)


def test_each_block_gets_the_codec_that_suits_it():
    blocks = [np.round(RNG.normal(50, 5, 1000), 2), np.cumsum(RNG.normal(0, 1e-300, 1000)),
              np.full(700, 0.1 + 0.2)]  # not a short decimal: CONSTANT beats DECIMAL here
    assert [tag_name(round_trip(block)[0]) for block in blocks] == ["decimal-bins", "ordered-bins", "constant"]


# The exhaustive stage ---------------------------------------------------------------------------------


def test_a_stage_is_used_only_when_smaller():
    cases = (np.round(RNG.normal(50, 5, 1024), 2), RNG.normal(size=1024), np.tile(RNG.normal(size=7), 150),
             np.full(1024, 0.1 + 0.2))  # constant: 8 bytes that no compressor can shrink
    branches = set()
    for values in cases:
        plain_tag, plain_blob = encode_values_best(values, exhaustive=False)
        tag, blob = round_trip(values, exhaustive=True)
        assert len(blob) <= len(plain_blob)
        if tag & STAGE_MASK or tag in PLANE_CODECS:
            assert len(blob) < len(plain_blob)
            branches.add("compressed")
        else:
            assert len(blob) == len(plain_blob) if tag == plain_tag else len(blob) < len(plain_blob)
            branches.add("plain")
    assert branches == {"compressed", "plain"}


def test_a_stage_wins_on_a_repeating_cycle():
    values = np.tile(RNG.normal(size=7), 150)  # no decimals, no runs, but a period zlib can see
    tag, blob = round_trip(values, exhaustive=True)
    assert tag & STAGE_MASK or tag in PLANE_CODECS
    assert 4 * len(blob) < len(encode_values_best(values)[1])


@pytest.mark.parametrize("stage", [ZLIB, LZMA])
def test_single_stage_can_be_chosen(stage):
    values = np.tile(RNG.normal(size=5), 100)
    tag, _ = round_trip(values, exhaustive=(stage,))
    assert tag & STAGE_MASK in (0, stage)
    with pytest.raises(ValueError):
        encode_values_best(values, exhaustive=(0x40,))


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
    st.sampled_from(sorted(VALUE_CODECS) + [c | ZLIB for c in VALUE_CODECS]),
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
    tag, blob = encode_timestamps_best(timestamps, exhaustive=True)
    np.testing.assert_array_equal(decode_timestamps_tagged(tag, blob, timestamps.size), timestamps)
    assert 8 * len(blob) <= 1000 + 128


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 60)), st.booleans())
def test_timestamps_round_trip(timestamps, exhaustive):
    tag, blob = encode_timestamps_best(timestamps, exhaustive=exhaustive)
    assert tag & ~STAGE_MASK == TIMESTAMP_GORILLA or tag == (TIMESTAMP_UNITS if exhaustive else TIMESTAMP_BINS)
    np.testing.assert_array_equal(decode_timestamps_tagged(tag, blob, timestamps.size), timestamps)



def test_damaged_fast_codec_streams_raise_format_error_or_give_count_values():
    decimals = np.round(RNG.normal(50, 5, 200), 2)
    cases = [
        (DECIMAL_BINS, floats_from_ordered(ordered_integers(decimals) + RNG.choice([-1, 0, 1], 200))),
        (DICTIONARY, np.repeat(decimals[:5], 40)),
        (ORDERED_BINS, np.cumsum(RNG.normal(0, 1e-300, 200))),
    ]
    for tag, values in cases:
        blob = VALUE_CODECS[tag].encode(values)
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
    candidates = value_candidates(values) + value_candidates(values, exhaustive=True)
    for tag, blob in candidates:
        with small_slices():
            decoded = decode_values_tagged(tag, blob, values.size)
            batched = finish_batched_values(drive([batched_value_decoder(tag, blob, values.size)]))[0]
        assert patterns(decoded).tolist() == patterns(values).tolist() == patterns(batched).tolist(), tag_name(tag)
