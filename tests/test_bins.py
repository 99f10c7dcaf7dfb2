"""Bins: a hand-made vector, fast == reference byte for byte, exact size estimates, round trips,
and damage that ends in FormatError (or the right number of values), never anything else."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.bitstream.varint import encode_varints
from lib.codecs.bins.batched import bins_stream, drive
from lib.codecs.bins import (
    bins_plan, decode_bins, decode_bins_parts, decode_bins_reference, encode_bins, encode_bins_reference,
)
from lib.codecs.bins.fast import SHORT_STREAM, _dense_plan, _write_dense, read_dense
from lib.codecs.bins.layout import DENSE, MAX_PRECISION, SPARSE, bin_keys, key_bins, max_key
from lib.codecs.bins.reference import dense_stream_reference
from lib.codecs.limits import MAX_COUNT
from lib.codecs.stream_coder import nonzero_of
from lib.errors import FormatError
from tests.conftest import MEMORY_COUNT, assert_decodes_within, small_slices, traced_peak

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


def nonzero_parts(blob, count):
    """(positions, values, end offset) of a stream's non-zero values, a sparse stream as it is
    stored (decode_bins_parts writes out no zeros for it)."""
    stream, end = decode_bins_parts(blob, count)
    return (*(stream if isinstance(stream, tuple) else nonzero_of(stream)), end)


@settings(max_examples=150, deadline=None)
@given(uint64_arrays)
def test_fast_and_reference_agree_and_round_trip(values):
    blob = encode_bins(values)
    assert blob == encode_bins_reference(values.tolist())
    assert len(blob) == bins_plan(values)[0]
    decoded, end = decode_bins(blob, values.size)
    assert end == len(blob)
    np.testing.assert_array_equal(decoded, values)
    positions, nonzero, end = nonzero_parts(blob, values.size)
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
    from lib.codecs.bins.fast import pack_low_bits, unpack_low_bits
    ranks = np.random.default_rng(count).integers(0, 400, count)
    packed = pack_low_bits(ranks, split)
    assert packed == pack_fixed_width(ranks.astype(np.uint64), split)
    np.testing.assert_array_equal(unpack_low_bits(packed, count, split), ranks & ((1 << split) - 1))
    if count == 1 and split == 2:
        assert pack_low_bits(np.array([6]), 2) == bytes([0b1000_0000])  # 6 = 110: low bits 10
        assert pack_low_bits(np.array([1, 6]), 2) == bytes([0b0110_0000])  # 01 10
        nine = bytes([0b001_001_00, 0b1_001_001_0, 0b01_001_001, 0b001_00000])  # 9 = 1001: low bits 001
        assert pack_low_bits(np.array([9] * 9), 3) == nine


@settings(max_examples=150, deadline=None)
@given(uint64_arrays.filter(lambda values: values.size <= 2 * SHORT_STREAM))
def test_short_streams_in_python_match_the_numpy_writer(values):
    # Both sides of SHORT_STREAM: the plain-integer writer and the numpy one give the same bytes.
    assert dense_stream_reference(values.tolist()) == _write_dense(values, _dense_plan(values))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**16 + 2), st.integers(0, 2**64 - 1)), max_size=50))
def test_finest_keys_from_the_small_value_table_are_bin_keys(values):
    from lib.codecs.bins.fast import SMALL_VALUES, _finest_keys

    unsigned = np.array(values, dtype=np.uint64)
    np.testing.assert_array_equal(_finest_keys(unsigned), bin_keys(unsigned, MAX_PRECISION)[0])
    below = unsigned[unsigned < SMALL_VALUES]
    np.testing.assert_array_equal(_finest_keys(below), bin_keys(below, MAX_PRECISION)[0])


def test_finest_keys_above_the_table_where_float64_rounds():
    from lib.codecs.bins.fast import _finest_keys

    # Above 2**53 a float64 keeps 53 bits and rounds: 2**L - 1 (all ones) would become 2**L, and
    # 1011 followed by ones would become 1100; the keys must still come from the top four bits.
    lengths = range(5, 65)
    all_ones = [(1 << length) - 1 for length in lengths]
    ones_below_1011 = [(0b1011 << (length - 4)) | ((1 << (length - 4)) - 1) for length in lengths]
    values = all_ones + ones_below_1011 + [1 << (length - 1) for length in lengths] + list(range(8)) + [2**16]
    unsigned = np.array(values, dtype=np.uint64)
    np.testing.assert_array_equal(_finest_keys(unsigned), bin_keys(unsigned, MAX_PRECISION)[0])
    exact = unsigned[unsigned < 2**53]  # converted without rounding: nothing cleared
    np.testing.assert_array_equal(_finest_keys(exact), bin_keys(exact, MAX_PRECISION)[0])
    # By hand: bit length 41, top four bits 1010: key 16 + ((41 - 5) << 3) + 0b1010 - 8 = 306.
    assert _finest_keys(np.array([2**40 + 2**38, 2**16], dtype=np.uint64)).tolist()[0] == 306


ONE_BIN = bytes([DENSE, 0x00, 1, 0])  # precision 0, one bin, key 0: every value 0, whatever the count
BAD_COUNTS = [-1, MAX_COUNT + 1, 2**31, 2**62, 1.5, True, "3", None]
DECODERS = {
    "decode_bins": decode_bins,
    "decode_bins_parts": decode_bins_parts,
    "decode_bins_reference": decode_bins_reference,
    "read_dense": lambda blob, count: read_dense(blob, 1, count),
}


@pytest.mark.parametrize("count", BAD_COUNTS)
@pytest.mark.parametrize("decoder", DECODERS)
def test_a_bad_count_is_refused_before_anything_is_allocated(decoder, count):
    def attempt():
        with pytest.raises(FormatError):
            DECODERS[decoder](ONE_BIN, count)

    _, peak = traced_peak(attempt)
    assert peak < 1 << 20  # 2**31 zeros would be 16 GiB


def test_a_count_the_unary_section_cannot_hold_is_refused_before_allocating():
    # Two bins (keys 0 and 1), a unary section of one byte: at most 8 codes of at least 1 bit each.
    blob = bytes([DENSE, 0x00, 2, 0, 1, 1, 0xFF])
    assert decode_bins(blob, 8)[0].tolist() == [0] * 8  # eight codes '1': rank 0, key 0
    _, peak = traced_peak(lambda: pytest.raises(FormatError, decode_bins, blob, 9))
    _, peak_huge = traced_peak(lambda: pytest.raises(FormatError, decode_bins, blob, MAX_COUNT))
    assert max(peak, peak_huge) < 1 << 20


def sparse_one_value(stored):
    """A sparse stream of one value whose stored "value - 1" is `stored` (one bin at precision 0:
    key 64, bit length 64, its 63 offset bits after the leading one)."""
    runs = bytes([0x00, 1, 0])  # two zero runs of 0 (one bin, key 0)
    value = bytes([0x00, 1, 64]) + ((stored - (1 << 63)) << 1).to_bytes(8, "big")
    return bytes([SPARSE, 1]) + runs + value


def test_the_largest_sparse_value_is_2_to_the_64_minus_1():
    blob = sparse_one_value(2**64 - 2)
    assert decode_bins(blob, 1)[0].tolist() == [2**64 - 1]
    assert decode_bins_reference(blob, 1) == [2**64 - 1]
    assert drive([bins_stream(blob, 0, 1)])[0][0].tolist() == [2**64 - 1]


@pytest.mark.parametrize("decoder", ["decode_bins", "decode_bins_parts", "decode_bins_reference", "batched"])
def test_a_sparse_value_of_2_to_the_64_is_refused_by_every_decoder(decoder):
    blob = sparse_one_value(2**64 - 1)  # value - 1 = 2**64 - 1: the value does not fit 64 bits
    decode = {
        "batched": lambda: drive([bins_stream(blob, 0, 1)]),
    }.get(decoder, lambda: DECODERS[decoder](blob, 1))
    with pytest.raises(FormatError, match="2\\*\\*64"):
        decode()


def two_bins_with_rank(rank):
    """Two values in a dense stream of two bins (keys 0 and 1): rank 0 ('1'), then `rank` ('0' * rank + '1')."""
    return bytes([DENSE, 0x00, 2, 0, 1, 1, 0x80 | 0x40 >> rank])


def test_a_rank_one_beyond_the_bins_is_refused():
    assert decode_bins(two_bins_with_rank(1), 2)[0].tolist() == [0, 1]  # rank 1: the last bin
    with pytest.raises(FormatError, match="rank"):
        decode_bins(two_bins_with_rank(2), 2)
    # Split 1: unary '1' and '01' (high parts 0 and 1), low bits 0 and 0: ranks 0 and 2.
    with pytest.raises(FormatError, match="rank"):
        decode_bins(bytes([DENSE, 0x10, 2, 0, 1, 1, 0xA0, 0x00]), 2)


@settings(max_examples=60, deadline=None)
@given(uint64_arrays)
def test_decoded_a_few_values_at_a_time_as_at_once(values):
    blob = encode_bins(values)
    with small_slices():
        decoded, end = decode_bins(blob, values.size)
        positions, nonzero, _ = nonzero_parts(blob, values.size)
    assert end == len(blob)
    np.testing.assert_array_equal(decoded, values)
    assert positions.tolist() == np.flatnonzero(values).tolist() and nonzero.tolist() == values[values != 0].tolist()


def dense_two_bins(count, split=0, offset_bits=0):
    """A dense stream of `count` values, all rank 0 (unary '1'), 2**split + 1 bins whose rank-0 bin
    has offsets of `offset_bits` bits (key 2 at precision 0 has 1, key 3 has 2), all zero."""
    bins = (1 << split) + 1
    first = {0: 0, 1: 2, 2: 3}[offset_bits]
    keys = bytes([first]) + bytes(key for key in range(8, 8 + bins - 1))
    unary = b"\xff" * (count // 8)
    return (bytes([DENSE, split << 4, bins]) + keys + encode_varints([len(unary)]) + unary
            + bytes(count * split // 8) + bytes(count * offset_bits // 8))


@pytest.mark.parametrize("blob, results", [
    (ONE_BIN, 1),
    (dense_two_bins(MEMORY_COUNT), 3),
    (dense_two_bins(MEMORY_COUNT, split=3), 3),
    (dense_two_bins(MEMORY_COUNT, offset_bits=2), 3),
    (bytes([SPARSE]) + encode_varints([MEMORY_COUNT]) + bytes([0, 1, 0, 0, 1, 0]), 3),  # every value 1
    # All zeros: one run of 2**19 (one bin at precision 0, key 20: bit length 20, 19 offset bits), no values.
    (bytes([SPARSE, 0]) + bytes([0, 1, 20]) + bytes(3) + bytes([0, 0]), 1),
])
def test_a_decode_holds_a_few_times_its_result_whatever_the_count(blob, results):
    values, _ = assert_decodes_within(lambda: decode_bins(blob, MEMORY_COUNT), 8 * MEMORY_COUNT, len(blob), results)
    assert values.size == MEMORY_COUNT


def test_exactly_half_non_zero_stays_dense_even_where_sparse_would_be_smaller():
    values = np.array([0] * 64 + [7] * 64, dtype=np.uint64)  # sparse: a run of 64, then 63 runs of 0
    blob = encode_bins(values)
    assert blob[0] == DENSE and encode_bins_reference(values.tolist()) == blob
    fewer = values.copy()
    fewer[64] = 0  # one fewer than half: sparse, being smaller
    assert encode_bins(fewer)[0] == SPARSE == encode_bins_reference(fewer.tolist())[0]


def test_values_just_below_and_at_the_small_table_have_their_keys():
    from lib.codecs.bins.fast import SMALL_VALUES, _finest_keys
    for value in (SMALL_VALUES - 1, SMALL_VALUES):
        unsigned = np.array([0, value], dtype=np.uint64)
        np.testing.assert_array_equal(_finest_keys(unsigned), bin_keys(unsigned, MAX_PRECISION)[0])


def every_bin_at_precision_0():
    """[0, 1, 2, 4, ..., 2**63]: one value in each of the 65 bins of precision 0 (keys 0..64)."""
    return [0] + [1 << k for k in range(64)]


def test_a_stream_may_use_every_bin_of_its_precision_and_no_more():
    values = every_bin_at_precision_0()
    blob = encode_bins_reference(values)
    assert blob[0] == DENSE and blob[2] == 65 == max_key(0) + 1  # 65 bins, one per value
    assert decode_bins(blob, 65)[0].tolist() == values
    repeated = bytes([DENSE, 0x00, 66]) + bytes(range(65)) + bytes([0])  # 66 bins: key 0 twice
    with pytest.raises(FormatError, match="66 bins"):
        decode_bins(repeated + blob[3 + 65:], 66)


def test_bins_are_at_most_the_count_and_one_for_an_empty_stream():
    assert decode_bins(bytes([DENSE, 0x00, 1, 0]), 0)[0].tolist() == []  # one bin, no values
    assert decode_bins(bytes([DENSE, 0x00, 0]), 0)[0].tolist() == []  # no bin
    with pytest.raises(FormatError, match="2 bins for 1 values"):
        decode_bins(bytes([DENSE, 0x00, 2, 0, 1, 1, 0x80]), 1)
    with pytest.raises(FormatError, match="2 bins for 0 values"):
        decode_bins(bytes([DENSE, 0x00, 2, 0, 1]), 0)


def test_a_tie_between_dense_and_sparse_goes_to_dense():
    values = [0, 2, 0, 2, 0, 2, 0]  # 3 of 7 non-zero: both are sized, and both take the same bytes
    blob = encode_bins(np.array(values, dtype=np.uint64))
    assert blob[0] == DENSE and encode_bins_reference(values) == blob


def test_a_short_stream_in_one_bin_pays_for_no_rank_codes():
    # [4, 5] * 24 at precision 1: one bin (bit length 3, top bits 10: key 4) with a 1-bit offset,
    # 0 for 4 and 1 for 5: 48 bits 0101... = six bytes 0x55. Two bins at precision 2 would cost a
    # unary code per value on top.
    values = [4, 5] * 24
    expected = bytes([DENSE, 0x01, 1, 4]) + b"\x55" * 6
    assert encode_bins(np.array(values, dtype=np.uint64)) == expected == encode_bins_reference(values)


def test_a_rank_split_is_chosen_where_it_is_smaller_by_both_encoders():
    values = [0, 8, 8, 0, 5, 8, 1, 2, 1, 6, 1, 0, 5, 5]  # six bins about equally common
    blob = encode_bins(np.array(values, dtype=np.uint64))
    assert blob[1] >> 4 >= 1  # split 1 or more
    assert encode_bins_reference(values) == blob
    assert decode_bins(blob, len(values))[0].tolist() == values


def test_a_two_byte_bin_key_is_counted_in_the_size():
    # Precision 3, bit length 19, top four bits 1000: key 16 + ((19 - 5) << 3) + 8 - 8 = 128, the
    # first key whose varint takes two bytes (80 01).
    low, high = (1 << 18), (1 << 18) + (1 << 17)
    values = np.array([low + (i << 10) for i in range(32)] + [high + (i << 10) for i in range(32)], dtype=np.uint64)
    blob = encode_bins(values)
    assert blob[1] == 0x03 and blob[3:5] == bytes([0x80, 0x01])
    assert bins_plan(values)[0] == len(blob)


def test_a_unary_section_at_its_longest_is_read():
    # Nine values, nine bins (keys 0..8 at precision 3: each value its own bin), every value rank 8:
    # nine codes '000000001', 81 bits in 11 bytes, the most a unary section of 9 codes can take.
    bits = "000000001" * 9
    unary = int(bits + "0" * 7, 2).to_bytes(11, "big")
    blob = bytes([DENSE, 0x03, 9]) + bytes(range(9)) + bytes([11]) + unary
    assert decode_bins(blob, 9)[0].tolist() == [8] * 9
    longer = bytes([DENSE, 0x03, 9]) + bytes(range(9)) + bytes([12]) + unary + b"\x00"  # 12 bytes: too long
    with pytest.raises(FormatError, match="unary"):
        decode_bins(longer, 9)
