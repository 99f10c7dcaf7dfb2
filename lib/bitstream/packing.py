"""Vectorised bit packing: whole numpy arrays of MSB-first fields at once.

These functions write and read exactly the bytes of `BitWriter` / `BitReader`
(lib/bitstream/stream.py), which move one field at a time: fields one after the other, most
significant bit first, no alignment, the last byte zero-padded. Packing the fields 1 (1 bit),
1 (2 bits) and 31 (5 bits) gives the byte 0b1_01_11111 = 0xBF either way (the tests prove the
two agree on random fields).

- `pack_bit_fields` / `read_bit_fields`: fields of any widths 0..64. Every field's bit offset
  comes from a cumulative sum, so nothing is sequential; the price is memory for a few arrays
  the size of the field list. The fast Gorilla and bins encoders use these.
- `read_short_fields`: the same read for fields of at most 57 bits, with one gather per field.
- `pack_fixed_width` / `unpack_fixed_width`: every field `width` bits wide (the residuals of the
  decimal codec), where a regular layout allows a faster, column-wise loop.
"""
import numpy as np

from lib.bitstream.stream import MASK64, WORD_BITS, WORD_BYTES
from lib.errors import FormatError

_U64 = np.uint64
_ALL_ONES = _U64(MASK64)
_U64_1 = _U64(1)
_U64_63 = _U64(63)


WIDTH_MASKS = np.array([(1 << width) - 1 for width in range(WORD_BITS + 1)], dtype=_U64)  # width -> mask


def pack_bit_fields(values, widths, clean=False):
    """Vectorized BitWriter: concatenate fields MSB-first and return zero-padded bytes.

    `values` are uint64, `widths` are 0..64 (a zero-width field is skipped; bits of a value above
    its width are ignored). A caller that guarantees values that fit their widths can pass
    `clean=True` to skip the checks and the masking.

    Each field lands in at most two 64-bit words, and is placed by where its last bit falls:
    word `(end - 1) // 64`, at bit `a = (end - 1) % 64` from the top. Shifted left by 63 - a it
    ends there (its top bits fall off the word); shifted right by a + 1 it is what spilled into
    the word before (nothing, when it did not spill). Both shifts are written so that no count
    reaches 64, which numpy, like C, leaves undefined. Fields never overlap, so the pieces that
    end in one word are OR-ed together with one reduceat, and only the first field ending in a
    word can have spilled into the word before. Example: widths 60 and 8 end at bits 60 and 68;
    the second ends in word 1 at a = 3, so its low 4 bits start word 1 and its top 4 end word 0.
    """
    values = np.asarray(values, dtype=np.uint64)
    widths = np.asarray(widths, dtype=np.int64)
    if widths.size == 0:
        return b""
    if not clean:
        if int(widths.view(np.uint64).max()) > WORD_BITS:  # a negative width views as a huge one
            raise ValueError(f"a bit field is 0 to {WORD_BITS} bits wide")
        values = values & WIDTH_MASKS[widths]
    ends = np.cumsum(widths)
    total_bits = int(ends[-1])
    if total_bits == 0:
        return b""
    if ends[0] == 0:  # leading zero-width fields end in no word: drop them
        first = int(np.searchsorted(ends, 0, side="right"))
        values, ends = values[first:], ends[first:]
    last_bits = ends - 1
    word_index = last_bits >> 6
    bit_in_word = (last_bits & 63).view(np.uint64)
    tails = values << (_U64_63 - bit_in_word)
    heads = (values >> bit_in_word) >> _U64_1
    # Every word up to the last holds the end of some field (a field of at most 64 bits that
    # started in the word before would otherwise have to cover it whole and end in the next one),
    # so the groups of equal word index are the words 0, 1, 2, ... in order.
    new_word = np.empty(word_index.size, dtype=bool)
    new_word[0] = True
    np.not_equal(word_index[1:], word_index[:-1], out=new_word[1:])
    group_starts = np.flatnonzero(new_word)
    words = np.bitwise_or.reduceat(tails, group_starts)
    words[:-1] |= heads[group_starts[1:]]
    return words.astype(">u8").tobytes()[: (total_bits + 7) // 8]


def words_for_reading(data):
    """The bytes as big-endian uint64 words, padded with two zero words so any field can be read."""
    padded = bytes(data) + bytes(-len(data) % WORD_BYTES + 2 * WORD_BYTES)
    return np.frombuffer(padded, dtype=">u8").astype(np.uint64)


def read_bit_fields(words, offsets, widths):
    """Vectorized BitReader: the fields of `widths` bits (1..64) starting at bit `offsets`.

    `words` comes from `words_for_reading`; the caller checks that offsets + widths stay within
    the real stream (the padding words only make the gather safe, they are not data).
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    widths = np.asarray(widths, dtype=np.int64)
    word_index = offsets >> 6
    shift = (offsets & 63).astype(np.uint64)
    # The 64 bits starting at each offset. (next >> 1) >> (63 - s) is next >> (64 - s) without
    # ever shifting by 64 when s == 0.
    window = (words[word_index] << shift) | (
        (words[word_index + 1] >> np.uint64(1)) >> (np.uint64(63) - shift)
    )
    return window >> (WORD_BITS - widths).astype(np.uint64)


SHORT_FIELD_BITS = 57  # a field this wide, starting anywhere in a byte, lies within the 8 bytes from that byte


def padded_for_short_fields(data):
    """The bytes with 8 zero bytes after them, so a window can start at any of their bytes."""
    return bytes(data) + bytes(WORD_BYTES)


def read_short_fields(padded, offsets, shifts):
    """`read_bit_fields` for fields of 0..57 bits: one gather of an 8-byte window per field.

    `padded` comes from `padded_for_short_fields`; `shifts` are 63 - width per field (uint64),
    and a field of width 0 reads as 0. The windows overlap, one starting at every byte, so the
    field at bit offset o is window o // 8 shifted left by o % 8, with no second word to stitch
    in. Example: offset 13, width 5 takes the window at byte 1, drops its top 5 bits (13 % 8) and
    keeps the next 5: (window << 5 >> 1) >> 58. The shift by one and then by 63 - width, instead
    of one shift by 64 - width, keeps every shift count below 64 and makes width 0 read 0.
    When the fields are dense (at most two windows per field from the first field's to the last's:
    a slice of a long stream starts far into its section), those windows are first copied out as
    native integers, one pass, so that the gather reads an ordinary array.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    starts = offsets >> 3
    first = int(starts.min()) if starts.size else 0
    spanned = int(starts.max()) + 1 - first if starts.size else 0
    windows = np.ndarray((len(padded) - WORD_BYTES + 1,), dtype=">u8", buffer=padded, strides=(1,))
    if spanned <= 2 * starts.size:
        fields = windows[first:first + spanned].astype(np.uint64)[starts - first]
    else:
        fields = np.take(windows, starts).view(np.uint64)  # np.take copies the raw bytes
        fields.byteswap(inplace=True)
    fields <<= (offsets & 7).view(np.uint64)  # offsets are not negative: the same bits
    fields >>= np.uint64(1)
    fields >>= shifts
    return fields


_LANE = 64  # 64 values of w bits fill exactly w words, so every group of 64 has the same layout
_CHUNKED_MIN_COUNT = 4096  # below this, the per-lane loop costs more than it saves
_CHUNKED_PACK_MIN_COUNT = 10_000  # packing: below this, pack_bit_fields is quicker than the per-lane loop


def pack_fixed_width(values, width):
    """MSB-first concatenation of each value's low `width` bits, zero-padded to whole bytes.

    The same bytes as `pack_bit_fields(values, [width] * n)` (the tests check it), which is what
    small arrays use. Large arrays use the fact that 64 fields of w bits fill exactly w words:
    value j of every group of 64 lands at the same bit offset j * w of its group, so one loop
    over j = 0..63 packs all groups at once with whole-column numpy operations.
    Example, w = 40: value 1 of a group starts at bit 40 of word 0; its top 24 bits end word 0
    and its low 16 bits start word 1.
    """
    values = np.ascontiguousarray(values, dtype=_U64)
    count = values.size
    if width == 0 or count == 0:
        return b""
    if count < _CHUNKED_PACK_MIN_COUNT:
        return pack_bit_fields(values, np.full(count, width))
    groups = -(-count // _LANE)
    lanes = np.zeros((groups, _LANE), dtype=_U64)
    lanes.reshape(-1)[:count] = values
    if width < WORD_BITS:
        lanes &= _U64((1 << width) - 1)
    words = np.zeros((groups, width), dtype=_U64)
    for j in range(_LANE):
        start = j * width
        word, offset = divmod(start, WORD_BITS)
        end = offset + width
        if end <= WORD_BITS:
            words[:, word] |= lanes[:, j] << _U64(WORD_BITS - end)
        else:
            words[:, word] |= lanes[:, j] >> _U64(end - WORD_BITS)
            words[:, word + 1] |= lanes[:, j] << _U64(2 * WORD_BITS - end)
    return words.astype(">u8").tobytes()[: (count * width + 7) // 8]


def unpack_fixed_width(data, count, width):
    """Inverse of `pack_fixed_width`: `count` unsigned values of `width` bits from `data`, which
    must hold them (FormatError otherwise, before anything count-sized is allocated)."""
    if count < 0 or count * width > 8 * len(data):
        raise FormatError(f"{len(data)} bytes cannot hold {count} fields of {width} bits")
    if width == 0 or count == 0:
        return np.zeros(count, dtype=_U64)
    if count < _CHUNKED_MIN_COUNT:
        return read_bit_fields(words_for_reading(data), np.arange(count) * width, width)
    groups = -(-count // _LANE)
    padded = bytes(data) + bytes(groups * width * 8 - len(data))
    words = np.frombuffer(padded, dtype=">u8").astype(_U64).reshape(groups, width)
    mask = _ALL_ONES >> _U64(WORD_BITS - width)
    lanes = np.empty((groups, _LANE), dtype=_U64)
    for j in range(_LANE):
        word, offset = divmod(j * width, WORD_BITS)
        end = offset + width
        if end <= WORD_BITS:
            lanes[:, j] = (words[:, word] >> _U64(WORD_BITS - end)) & mask
        else:
            high = words[:, word] << _U64(end - WORD_BITS)
            lanes[:, j] = (high | (words[:, word + 1] >> _U64(2 * WORD_BITS - end))) & mask
    return lanes.reshape(-1)[:count]


EXACT_FLOAT_LIMIT = 1 << 53  # integers below this are exact as float64


def bit_lengths(unsigned):
    """Exact bit length of each uint64: 0 -> 0, 1 -> 1, 255 -> 8, 2**64 - 1 -> 64.

    float64 conversion gives the length through its exponent, but rounds values above 2**53 up,
    sometimes onto the next power of two (2**54 - 1 becomes 2**54, length 55). Checking whether
    the top bit the float claims is really set corrects that.
    """
    lengths = np.minimum(np.frexp(unsigned.astype(np.float64))[1], WORD_BITS).astype(np.int64)
    if unsigned.size == 0 or int(unsigned.max()) < EXACT_FLOAT_LIMIT:  # every value converted exactly
        return lengths
    top_bit = np.maximum(lengths - 1, 0).astype(_U64)
    overshoot = (lengths > 0) & ((unsigned >> top_bit) == 0)
    return lengths - overshoot
