"""Bit streams: MSB-first bit fields, the way Gorilla and Prometheus lay out their chunks.

Every bit-level encoder in this project writes variable-width fields (1 to 64 bits) one after the
other with no byte alignment, most significant bit first, and pads the last byte with zero bits.
Writing the fields 0b1 (1 bit), 0b01 (2 bits) and 0b11111 (5 bits) gives the single byte 0b10111111.

`BitWriter` / `BitReader` move one field at a time, like Prometheus' tsdb/chunkenc/bstream.go.
They are what the reference encoders use because they read like the paper. The writer keeps at
most 63 pending bits in a small int and flushes whole 64-bit words into a bytearray, so the cost
stays linear in the input (an ever-growing Python int would make each append O(n)). The same
bytes for whole numpy arrays of fields at once: lib/bitstream/packing.py.

Readers raise `FormatError` (never IndexError) when asked for bits past the end of the stream.
"""
from lib.errors import FormatError

WORD_BITS = 64  # the machine word every bit stream in the project is built from and read in
MASK64 = (1 << WORD_BITS) - 1  # a Python int -> its uint64 residue: -1 & MASK64 == 2**64 - 1
WORD_BYTES = WORD_BITS // 8


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
            self._full_words += (self._pending >> self._pending_bits).to_bytes(WORD_BYTES, "big")
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
