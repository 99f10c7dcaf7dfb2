"""Bit streams: MSB-first bit fields, the way Gorilla and Prometheus lay out their chunks.

Every bit-level encoder in this project writes variable-width fields (1 to 64 bits) one after the
other with no byte alignment, most significant bit first, and pads the last byte with zero bits.
Writing the fields 0b1 (1 bit), 0b01 (2 bits) and 0b11111 (5 bits) gives the single byte 0b10111111.

Two ways to do it live here, and they produce the same bytes:

- `BitWriter` / `BitReader` move one field at a time, like Prometheus' tsdb/chunkenc/bstream.go.
  They are what the reference encoders use because they read like the paper. The writer keeps at
  most 63 pending bits in a small int and flushes whole 64-bit words into a bytearray, so the
  cost stays linear in the input (an ever-growing Python int would make each append O(n)).
- `pack_bit_fields` / `read_bit_fields` do the same job for whole numpy arrays of fields at once:
  every field's bit offset comes from a cumulative sum, so nothing is sequential. The fast encoders
  use these; the price is memory for a few arrays the size of the field list.

Readers raise `FormatError` (never IndexError) when asked for bits past the end of the stream.
"""
import numpy as np

from lib.errors import FormatError

WORD_BITS = 64
_ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_U64_WORD_BITS = np.uint64(WORD_BITS)
_U64_6 = np.uint64(6)
_U64_63 = np.uint64(63)
_WORD_BYTES = WORD_BITS // 8


def _check_width(nbits):
    if not 1 <= nbits <= WORD_BITS:
        raise ValueError(f"a bit field is 1 to {WORD_BITS} bits wide, got {nbits}")


class BitWriter:
    """Append MSB-first bit fields; `to_bytes()` returns them zero-padded to whole bytes."""

    def __init__(self):
        self._full_words = bytearray()
        self._pending = 0
        self._pending_bits = 0

    def write_bits(self, value, nbits):
        """Append the low `nbits` bits of the non-negative int `value` (1 <= nbits <= 64)."""
        _check_width(nbits)
        if value < 0 or value >> nbits:
            raise ValueError(f"{value} does not fit in {nbits} unsigned bits")
        self._pending = (self._pending << nbits) | value
        self._pending_bits += nbits
        if self._pending_bits >= WORD_BITS:
            # Flush the oldest 64 bits; what stays pending is always shorter than a word.
            self._pending_bits -= WORD_BITS
            self._full_words += (self._pending >> self._pending_bits).to_bytes(_WORD_BYTES, "big")
            self._pending &= (1 << self._pending_bits) - 1

    def write_bit(self, bit):
        self.write_bits(1 if bit else 0, 1)

    @property
    def bit_length(self):
        """Number of bits written so far (before padding)."""
        return 8 * len(self._full_words) + self._pending_bits

    def to_bytes(self):
        tail_bytes = (self._pending_bits + 7) // 8
        padding = 8 * tail_bytes - self._pending_bits
        tail = (self._pending << padding).to_bytes(tail_bytes, "big")
        return bytes(self._full_words) + tail


class BitReader:
    """Read MSB-first bit fields from bytes, in the order a `BitWriter` wrote them."""

    def __init__(self, data):
        self._data = bytes(data)
        self._bit_length = 8 * len(self._data)
        self.position = 0

    @property
    def bit_length(self):
        return self._bit_length

    @property
    def bits_left(self):
        return self._bit_length - self.position

    def read_bits(self, nbits):
        """Return the next `nbits` bits (1 <= nbits <= 64) as a non-negative int."""
        _check_width(nbits)
        end = self.position + nbits
        if end > self._bit_length:
            raise FormatError(
                f"bit stream truncated: wanted {nbits} bits at bit {self.position}, "
                f"only {self.bits_left} left"
            )
        first_byte = self.position >> 3
        last_byte = (end + 7) >> 3
        chunk = int.from_bytes(self._data[first_byte:last_byte], "big")
        self.position = end
        return (chunk >> (8 * last_byte - end)) & ((1 << nbits) - 1)

    def read_bit(self):
        return self.read_bits(1)


def pack_bit_fields(values, widths, clean=False):
    """Vectorized BitWriter: concatenate fields MSB-first and return zero-padded bytes.

    `values` are uint64, `widths` are 0..64 (a zero-width field is skipped; bits of a value above
    its width are ignored). A caller that guarantees widths of 1..64 and values that fit them can
    pass `clean=True` to skip that filtering and masking.

    Each field lands in at most two 64-bit words: bits [s, s + w) of word `offset // 64`, spilling
    into the next word when s + w > 64. Fields never overlap, so all the pieces that fall into
    one word can be OR-ed together with one reduceat.
    """
    values = np.asarray(values, dtype=np.uint64)
    widths = np.asarray(widths).astype(np.uint64)
    if not clean:
        present = widths > 0
        if not present.all():
            values, widths = values[present], widths[present]
        if widths.size and widths.max() > WORD_BITS:
            raise ValueError(f"a bit field is at most {WORD_BITS} bits wide")
        # ALL_ONES >> (64 - w) keeps every shift count within 0..63.
        values = values & (_ALL_ONES >> (_U64_WORD_BITS - widths))
    if widths.size == 0:
        return b""
    ends = np.cumsum(widths, dtype=np.uint64)
    total_bits = int(ends[-1])
    offsets = ends - widths
    word_index = (offsets >> _U64_6).astype(np.intp)
    end_in_word = (offsets & _U64_63) + widths
    # Shift counts stay within 0..63 (numpy, like C, leaves a shift by 64 undefined): a field that
    # fits is shifted left to its place, one that spills keeps only its top part here.
    overflow = np.maximum(end_in_word, _U64_WORD_BITS) - _U64_WORD_BITS
    room = _U64_WORD_BITS - np.minimum(end_in_word, _U64_WORD_BITS)
    head = (values >> overflow) << room

    # A field is at most 64 bits, so every word holds the start of at least one field: the heads
    # OR-ed per word fill words[0 .. last] in order. A word boundary is crossed by at most one
    # field, so each spilled tail lands alone in its word.
    group_starts = np.flatnonzero(np.concatenate(([True], word_index[1:] != word_index[:-1])))
    words = np.zeros(int(word_index[-1]) + 2, dtype=np.uint64)
    words[: group_starts.size] = np.bitwise_or.reduceat(head, group_starts)
    spills = np.flatnonzero(overflow)
    if spills.size:
        words[word_index[spills] + 1] |= values[spills] << (_U64_WORD_BITS - overflow[spills])
    return words.astype(">u8").tobytes()[: (total_bits + 7) // 8]


def words_for_reading(data):
    """The bytes as big-endian uint64 words, padded with two zero words so any field can be read."""
    padded = bytes(data) + bytes(-len(data) % _WORD_BYTES + 2 * _WORD_BYTES)
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
    return bytes(data) + bytes(_WORD_BYTES)


def read_short_fields(padded, offsets, shifts):
    """`read_bit_fields` for fields of 0..57 bits: one gather of an 8-byte window per field.

    `padded` comes from `padded_for_short_fields`; `shifts` are 63 - width per field (uint64),
    and a field of width 0 reads as 0. The windows overlap, one starting at every byte, so the
    field at bit offset o is window o // 8 shifted left by o % 8, with no second word to stitch
    in. Example: offset 13, width 5 takes the window at byte 1, drops its top 5 bits (13 % 8) and
    keeps the next 5: (window << 5 >> 1) >> 58. The shift by one and then by 63 - width, instead
    of one shift by 64 - width, keeps every shift count below 64 and makes width 0 read 0.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    windows = np.ndarray((len(padded) - _WORD_BYTES + 1,), dtype=">u8", buffer=padded, strides=(1,))
    fields = np.take(windows, offsets >> 3).view(np.uint64)  # np.take copies the raw bytes
    fields.byteswap(inplace=True)
    fields <<= (offsets & 7).view(np.uint64)  # offsets are not negative: the same bits
    fields >>= np.uint64(1)
    fields >>= shifts
    return fields
