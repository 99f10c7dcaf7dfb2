import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib.decimal_codec import MAX_COUNT
from lib.errors import FormatError
from lib.value_codecs import (
    CODECS,
    CONSTANT,
    DECIMAL_BINS,
    DICTIONARY,
    DECIMAL_PLANES,
    ORDERED_BINS,
    TIMESTAMP_BINS,
    ORDERED,
    DECIMAL,
    GORILLA,
    LZMA,
    RUNS,
    STAGE_MASK,
    STAGES,
    TIMESTAMP_GORILLA,
    TIMESTAMP_UNITS,
    PLANE_CODECS,
    ZLIB,
    codec_usage,
    decode_blocks,
    decode_timestamps_tagged,
    decode_values_tagged,
    encode_blocks_best,
    encode_timestamps_best,
    encode_values_best,
    max_stream_bytes,
    tag_name,
    value_candidates,
)


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
    cases = (np.round(RNG.normal(50, 5, 1024), 2), RNG.normal(size=1024), np.tile(RNG.normal(size=7), 150))
    for values in cases:
        plain_tag, plain_blob = encode_values_best(values, entropy=False)
        tag, blob = round_trip(values, entropy=True)
        assert len(blob) <= len(plain_blob)
        if tag & STAGE_MASK or tag in PLANE_CODECS:
            assert len(blob) < len(plain_blob)
        else:
            assert (tag, blob) == (plain_tag, plain_blob)


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

