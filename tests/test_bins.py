"""Bins: a hand-made vector, fast == reference byte for byte, exact size estimates, round trips,
and damage that ends in FormatError (or the right number of values), never anything else."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.codecs.bins import (
    DENSE, MAX_PRECISION, SHORT_STREAM, SPARSE, _dense_plan, _short_dense_bytes, _write_dense, bin_keys,
    bins_size, decode_bins, decode_bins_nonzero, decode_bins_reference, encode_bins, encode_bins_reference,
    key_bins, max_key,
)
from lib.errors import FormatError

U64_MAX = (1 << 64) - 1


def test_worked_example_from_the_docstring():
    # [0, 5, 4, 5] at precision 0: bins "0" (key 0) and "bit length 3" (key 3); key 3 is more
    # common, so it is rank 0. Unary ranks 1, 0, 0, 0 -> bits 01 1 1 1 -> 0111 1000 = 0x78.
    # Offsets: 5 and 4 below their leading one, 2 bits each: 01 00 01 -> 0100 0100 = 0x44.
    expected = bytes([DENSE, 0x00, 2, 3, 0, 1, 0x78, 0x44])
    assert encode_bins(np.array([0, 5, 4, 5], dtype=np.uint64)) == expected
    assert encode_bins_reference([0, 5, 4, 5]) == expected
    values, end = decode_bins(expected, 4)
    assert values.tolist() == [0, 5, 4, 5] and end == len(expected)


def test_bin_keys_by_hand():
    keys, widths = bin_keys(np.array([0, 3, 5, 12], dtype=np.uint64), 1)
    assert keys.tolist() == [0, 3, 4, 7] and widths.tolist() == [0, 0, 1, 2]
    lower, widths = key_bins([0, 3, 4, 7], 1)
    assert lower.tolist() == [0, 3, 4, 12] and widths.tolist() == [0, 0, 1, 2]
    for precision in range(MAX_PRECISION + 1):
        top, width = bin_keys(np.array([U64_MAX], dtype=np.uint64), precision)
        assert int(top[0]) == max_key(precision) and int(width[0]) == 63 - precision
        # By hand: width 63 - p, then the top p + 1 bits (all ones): key = (63 - p) * 2**p + 2**(p + 1) - 1.
        assert int(top[0]) == [64, 127, 251, 495][precision]


def test_one_bin_costs_no_unary_bits_and_mostly_zero_goes_sparse():
    constant_width = np.full(1000, 6, dtype=np.uint64)  # one bin: header only, no offsets
    assert len(encode_bins(constant_width)) < 10
    mostly_zero = np.zeros(1000, dtype=np.uint64)
    mostly_zero[[10, 500]] = [3, 1]
    blob = encode_bins(mostly_zero)
    assert blob[0] == SPARSE and len(blob) < 20
    np.testing.assert_array_equal(decode_bins(blob, 1000)[0], mostly_zero)


def test_skewed_values_cost_close_to_their_entropy():
    rng = np.random.default_rng(5)
    values = np.abs(rng.laplace(0, 20, 20_000)).astype(np.uint64)
    _, counts = np.unique(values, return_counts=True)
    share = counts / values.size
    entropy = float(-(share * np.log2(share)).sum())
    bits = 8 * len(encode_bins(values)) / values.size
    assert entropy <= bits < entropy + 0.4


uint64_arrays = st.one_of(
    hnp.arrays(np.uint64, st.integers(0, 200)),
    hnp.arrays(np.uint64, st.integers(0, 200), elements=st.integers(0, 40)),
    hnp.arrays(np.uint64, st.integers(0, 200), elements=st.sampled_from([0, 0, 0, 0, 1, 7, U64_MAX])),
)


@settings(max_examples=150, deadline=None)
@given(uint64_arrays)
def test_fast_and_reference_agree_and_round_trip(values):
    blob = encode_bins(values)
    assert blob == encode_bins_reference(values.tolist())
    assert len(blob) == bins_size(values)
    decoded, end = decode_bins(blob, values.size)
    assert end == len(blob)
    np.testing.assert_array_equal(decoded, values)
    positions, nonzero, end = decode_bins_nonzero(blob, values.size)
    assert end == len(blob)
    assert positions.tolist() == np.flatnonzero(values).tolist() and nonzero.tolist() == values[values != 0].tolist()
    assert decode_bins_reference(blob, values.size) == values.tolist()


def damaged_versions(blob):
    for length in range(len(blob)):
        yield blob[:length]
    for position in range(len(blob)):
        for flip in (0x01, 0x10, 0x80, 0xFF):
            damaged = bytearray(blob)
            damaged[position] ^= flip
            yield bytes(damaged)


def test_damaged_streams_raise_format_error_or_give_count_values():
    rng = np.random.default_rng(2)
    streams = [np.abs(rng.laplace(0, 30, 300)).astype(np.uint64),
               (rng.random(300) < 0.05).astype(np.uint64) * rng.integers(1, 9, 300).astype(np.uint64),
               rng.integers(0, 2**64 - 1, 50, dtype=np.uint64, endpoint=True)]
    for values in streams:
        for damaged in damaged_versions(encode_bins(values)):
            try:
                decoded, _ = decode_bins(damaged, values.size)
            except FormatError:
                continue
            assert decoded.size == values.size


def test_claims_beyond_the_bytes_present_are_refused_before_allocating():
    with pytest.raises(FormatError):
        decode_bins(bytes([DENSE, 0, 0x80, 0x80, 0x80, 0x01]), 10)  # 2**21 bins for 10 values
    with pytest.raises(FormatError):
        decode_bins(bytes([SPARSE, 0xFF, 0xFF, 0x03]), 10)  # more non-zero values than values
    with pytest.raises(FormatError):
        decode_bins(bytes([DENSE, 0x0F]), 10)  # precision 15
    with pytest.raises(FormatError):
        decode_bins(bytes([7]), 10)  # unknown mode
    with pytest.raises(FormatError):
        decode_bins(b"", 1)


@pytest.mark.parametrize("count", [0, 1, 63, 64, 65, 5000])
@pytest.mark.parametrize("split", [1, 2, 3])
def test_rank_low_bits_pack_like_fixed_width_packing(count, split):
    from lib.bitstream.packing import pack_fixed_width
    from lib.codecs.bins import pack_low_bits, unpack_low_bits
    ranks = np.random.default_rng(count).integers(0, 400, count)
    packed = pack_low_bits(ranks, split)
    assert packed == pack_fixed_width(ranks.astype(np.uint64), split)
    np.testing.assert_array_equal(unpack_low_bits(packed, count, split), ranks & ((1 << split) - 1))
    if count == 1 and split == 2:
        assert pack_low_bits(np.array([6]), 2) == bytes([0b1000_0000])  # 6 = 110: low bits 10


@settings(max_examples=150, deadline=None)
@given(uint64_arrays.filter(lambda values: values.size <= 2 * SHORT_STREAM))
def test_short_streams_in_python_match_the_numpy_writer(values):
    # Both sides of SHORT_STREAM: the plain-integer writer and the numpy one give the same bytes.
    assert _short_dense_bytes(values.tolist()) == _write_dense(values, _dense_plan(values))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**16 + 2), st.integers(0, 2**64 - 1)), max_size=50))
def test_finest_keys_from_the_small_value_table_are_bin_keys(values):
    from lib.codecs.bins import SMALL_VALUES, _finest_keys

    unsigned = np.array(values, dtype=np.uint64)
    np.testing.assert_array_equal(_finest_keys(unsigned), bin_keys(unsigned, MAX_PRECISION)[0])
    below = unsigned[unsigned < SMALL_VALUES]
    np.testing.assert_array_equal(_finest_keys(below), bin_keys(below, MAX_PRECISION)[0])
