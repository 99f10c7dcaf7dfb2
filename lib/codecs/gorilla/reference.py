"""Gorilla compression as the paper describes it, one point at a time (Pelkonen et al., VLDB 2015).

This module is the readable definition of the streams: one loop over `BitWriter` / `BitReader`,
the control prefixes written as literals in the paper's notation, as Prometheus' xor.go does.
lib/codecs/gorilla/fast.py writes and reads the same bytes with numpy (the tests prove it on
random and adversarial series) and is what the project runs. The layout's field widths and the
checks every decoder applies are defined here, once, and the fast path imports them.

Timestamps: scrapes arrive at a regular interval, so the *change of the interval* (the
delta-of-delta D) is 0 wherever the scrapes around it were on time, and then costs one bit (one late
scrape makes three non-zero D; phase 3 prints the share of zeros on the data at hand):

    D == 0                      '0'
    -63 <= D <= 64              '10'   + D in 7 bits
    -255 <= D <= 256            '110'  + D in 9 bits
    -2047 <= D <= 2048          '1110' + D in 12 bits
    anything else               '1111' + D in 64 bits

  (An n-bit field holds D modulo 2**n; a field value above 2**(n-1) means D - 2**n.)

Values: consecutive floats share sign, exponent and high mantissa bits, so the XOR of a value with
the previous one is mostly zero bits. Only the "meaningful" middle of the XOR is stored:

    XOR == 0                                     '0'
    meaningful bits fit the previous window      '10' + the bits inside that window
    otherwise                                    '11' + 5 bits leading zeros
                                                      + 6 bits meaningful-bit count + the bits

Stream layouts (MSB-first bits, last byte zero-padded; the point count is stored by the caller;
the normative text is docs/format.md):

    timestamps: first timestamp (64 bits, two's complement)
                [if count >= 2] unit length L (6 bits), unit (L bits), then count - 1 delta-of-delta
                codes of the timestamps divided by the unit
    values:     first value (64 bits, IEEE 754 pattern), then count - 1 XOR codes

A worked example in the spirit of the paper's Figure 2. Timestamps 7262, 7324, 7384, 7444 s
(02:01:02, then +62 s, +60 s, +60 s) have the deltas 62, 60, 60, whose unit is 2, so in units
31, 30, 30 and the delta-of-deltas 31, -1, 0 (the first against an implicit 0):

    7262 in 64 bits | 000010 10 (unit 2, 2 bits long) | 10 0011111 | 10 1111111 | 0

91 bits, 12 bytes. Values 12.0, 12.0, 24.0: 12.0 in 64 bits, then '0' (the same value), then
12.0 XOR 24.0 = 0x4028000000000000 ^ 0x4038000000000000 = 0x0010000000000000, 11 leading and
52 trailing zeros around 1 meaningful bit: '11' 01011 000001 1, as in the paper.

Choices this codec makes where the paper leaves room, so that *every* int64 and *every* float64
bit pattern round-trips:

- Timestamp arithmetic is modulo 2**64. The delta from INT64_MIN to INT64_MAX wraps to -1 and
  decoding wraps it back, so decreasing, equal and wildly jumping timestamps are all exact.
- The escape class stores D as a full 64-bit field: a wrapped delta-of-delta can be any of the
  2**64 residues, so no narrower escape is safe.
- The first delta is coded like every other delta-of-delta, against an implicit previous delta
  of 0 (the paper uses a fixed 14-bit field, which assumes 2-hour blocks). A small first delta
  costs a short code; a large one costs the 68-bit escape.
- Resolution: nanosecond timestamps that really carry milliseconds would waste about 20 bits on
  every jittery delta. Before delta-of-delta the deltas are divided by their greatest common
  divisor, the "unit" (1_000_000 for millisecond data, 15_000_000_000 for exact 15 s scrapes).
  The gcd of the deltas is the most general choice: it equals the gcd of all offsets from the first
  timestamp, and it finds units that are not powers of ten. It is stored as its bit length in
  6 bits followed by the unit itself (26 bits for a millisecond unit). Division is exact because
  the unit divides every wrapped delta; decoding multiplies back modulo 2**64. The one unit that
  would not fit 63 bits, 2**63 (all deltas are 0 or INT64_MIN), is replaced by its divisor 2**62.
- XOR leading zeros above 31 are clamped to 31 (5 bits); the window then simply holds a few more
  zero bits. A meaningful-bit count of 64 is stored as 0, which is otherwise impossible.
- All value work happens on the uint64 view of the floats; no float arithmetic ever touches them,
  so NaN payloads, signalling NaNs, -0.0, infinities and subnormals survive bit for bit.

Decoders raise `FormatError` for a count the bytes cannot hold, a truncated or malformed stream
and trailing bytes.
"""
import math

import numpy as np

from lib.bitstream.stream import MASK64, WORD_BITS, BitReader, BitWriter
from lib.codecs.transforms import to_signed64
from lib.errors import FormatError

TIMESTAMP_FIRST_BITS = 64
UNIT_LENGTH_BITS = 6
LARGEST_UNIT = 1 << 62  # used instead of the gcd 2**63, which needs 64 bits

VALUE_FIRST_BITS = 64
LEADING_ZEROS_BITS = 5
MAX_LEADING_ZEROS = (1 << LEADING_ZEROS_BITS) - 1  # 31: more leading zeros are clamped to this
MEANINGFUL_BITS_BITS = 6  # 1..64, with 64 stored as 0


def as_timestamps(timestamps):
    return np.ascontiguousarray(timestamps, dtype=np.int64)


def as_value_bits(values):
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


# What every decoder checks, the reference and the fast one alike ---------------------------------


def minimum_timestamp_bits(count):
    # The header, then at least one bit per delta-of-delta ('0').
    if count == 0:
        return 0
    if count == 1:
        return TIMESTAMP_FIRST_BITS
    return TIMESTAMP_FIRST_BITS + UNIT_LENGTH_BITS + 1 + (count - 1)


def minimum_value_bits(count):
    return 0 if count == 0 else VALUE_FIRST_BITS + (count - 1)


def check_count_fits(count, blob, minimum_bits_for, what):
    """The point count as an int, refused before anything is allocated if `blob` cannot hold it.

    `minimum_bits_for(count)` is a lower bound of the stream's length; every point costs at least
    one bit, so an absurd count fails here. `what` names the stream in errors ("timestamp").
    """
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 0:
        raise FormatError(f"point count must be a non-negative integer, got {count!r}")
    count = int(count)
    minimum_bits = minimum_bits_for(count)
    if minimum_bits > 8 * len(blob):
        raise FormatError(
            f"{len(blob)} bytes cannot hold {count} points (need at least {minimum_bits} bits)"
        )
    if count == 0:
        check_stream_end(0, blob, what)
    return count


def check_stream_end(end_bit, blob, what):
    """The stream's last record ends at `end_bit`: the blob must end in that byte, not before or after."""
    if end_bit > 8 * len(blob):
        raise FormatError(f"{what} stream truncated: needs {end_bit} bits, has {8 * len(blob)}")
    if (end_bit + 7) // 8 != len(blob):
        raise FormatError(f"{what} stream has {len(blob) - (end_bit + 7) // 8} trailing bytes")


# Timestamps --------------------------------------------------------------------------------------


def representable_unit(gcd):
    """The gcd of the deltas as the unit, except 0 (no deltas, or all zero) becomes 1 and 2**63 becomes 2**62."""
    if gcd == 0:
        return 1
    return LARGEST_UNIT if gcd.bit_length() > WORD_BITS - 1 else gcd


def _common_unit(deltas):
    """The largest unit every delta is a multiple of (1 if all deltas are zero)."""
    unit = 0
    for delta in deltas:
        unit = math.gcd(unit, delta)
    return representable_unit(unit)


def _twos_complement(value, nbits):
    """The low `nbits` bits of a signed int: -1 in 7 bits is 0b1111111."""
    return value & ((1 << nbits) - 1)


def _from_twos_complement(raw, nbits):
    """Inverse of `_twos_complement` on the range -(2**(n-1) - 1)..2**(n-1): 7-bit 0b1111111 (127 > 64) is -1."""
    return raw - (1 << nbits) if raw > 1 << (nbits - 1) else raw


def _write_delta_of_delta(writer, dod):
    """The shortest code that holds D (an n-bit field holds -(2**(n-1) - 1)..2**(n-1))."""
    if dod == 0:
        writer.write_bits(0b0, 1)  # '0': the scrape was on time
    elif -63 <= dod <= 64:
        writer.write_bits(0b10, 2)  # '10': D in 7 bits
        writer.write_bits(_twos_complement(dod, 7), 7)
    elif -255 <= dod <= 256:
        writer.write_bits(0b110, 3)  # '110': D in 9 bits
        writer.write_bits(_twos_complement(dod, 9), 9)
    elif -2047 <= dod <= 2048:
        writer.write_bits(0b1110, 4)  # '1110': D in 12 bits
        writer.write_bits(_twos_complement(dod, 12), 12)
    else:
        writer.write_bits(0b1111, 4)  # '1111': D in 64 bits, the escape
        writer.write_bits(_twos_complement(dod, 64), 64)


def encode_timestamps_reference(timestamps):
    """Gorilla timestamp compression, one delta-of-delta at a time (see the module docstring)."""
    ts = [int(t) for t in as_timestamps(timestamps)]
    if not ts:
        return b""
    writer = BitWriter()
    writer.write_bits(ts[0] & MASK64, TIMESTAMP_FIRST_BITS)
    if len(ts) == 1:
        return writer.to_bytes()
    deltas = [to_signed64(current - previous) for previous, current in zip(ts, ts[1:])]
    unit = _common_unit(deltas)
    writer.write_bits(unit.bit_length(), UNIT_LENGTH_BITS)
    writer.write_bits(unit, unit.bit_length())
    previous_delta = 0
    for delta in deltas:
        delta //= unit  # exact: the unit divides every delta
        _write_delta_of_delta(writer, to_signed64(delta - previous_delta))
        previous_delta = delta
    return writer.to_bytes()


def _read_delta_of_delta(reader):
    """One code, its prefix read bit by bit until the first '0' (or four '1's), then D."""
    if not reader.read_bit():  # '0'
        return 0
    if not reader.read_bit():  # '10'
        return _from_twos_complement(reader.read_bits(7), 7)
    if not reader.read_bit():  # '110'
        return _from_twos_complement(reader.read_bits(9), 9)
    if not reader.read_bit():  # '1110'
        return _from_twos_complement(reader.read_bits(12), 12)
    return _from_twos_complement(reader.read_bits(64), 64)  # '1111'


def read_unit(reader):
    """The unit from the timestamp header: its bit length in 6 bits, then the unit itself."""
    length = reader.read_bits(UNIT_LENGTH_BITS)
    if length == 0:
        raise FormatError("timestamp unit has length 0")
    unit = reader.read_bits(length)
    if unit.bit_length() != length:
        raise FormatError(f"timestamp unit {unit} does not have its stated length {length}")
    return unit


def decode_timestamps_reference(blob, count):
    """Inverse of `encode_timestamps_reference`: int64 array of `count` timestamps."""
    count = check_count_fits(count, blob, minimum_timestamp_bits, "timestamp")
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    reader = BitReader(blob)
    timestamp = to_signed64(reader.read_bits(TIMESTAMP_FIRST_BITS))
    out = [timestamp]
    if count > 1:
        unit = read_unit(reader)
        delta = 0
        for _ in range(count - 1):
            delta = to_signed64(delta + _read_delta_of_delta(reader))
            timestamp = to_signed64(timestamp + delta * unit)
            out.append(timestamp)
    check_stream_end(reader.position, blob, "timestamp")
    return np.array(out, dtype=np.int64)


# Values ------------------------------------------------------------------------------------------


def encode_values_reference(values):
    """Gorilla XOR compression, one value at a time (see the module docstring)."""
    bits = [int(b) for b in as_value_bits(values)]
    if not bits:
        return b""
    writer = BitWriter()
    writer.write_bits(bits[0], VALUE_FIRST_BITS)
    window = None  # (leading, trailing) zeros of the last '11' record
    for previous, current in zip(bits, bits[1:]):
        xor = previous ^ current
        if xor == 0:
            writer.write_bits(0b0, 1)  # '0': the value repeats
            continue
        leading = min(WORD_BITS - xor.bit_length(), MAX_LEADING_ZEROS)
        # xor & -xor keeps only the lowest set bit: 0b101000 & -0b101000 == 0b1000 -> 3 trailing.
        trailing = (xor & -xor).bit_length() - 1
        if window is not None and leading >= window[0] and trailing >= window[1]:
            writer.write_bits(0b10, 2)  # '10': the meaningful bits fit the previous window
            writer.write_bits(xor >> window[1], WORD_BITS - window[0] - window[1])
        else:
            window = (leading, trailing)
            meaningful = WORD_BITS - leading - trailing
            writer.write_bits(0b11, 2)  # '11': a new window, then its bits
            writer.write_bits(leading, LEADING_ZEROS_BITS)
            # 1..64 does not fit 6 bits; 64 is written as 0, which cannot otherwise occur.
            writer.write_bits(meaningful % WORD_BITS, MEANINGFUL_BITS_BITS)
            writer.write_bits(xor >> trailing, meaningful)
    return writer.to_bytes()


def _read_window(reader):
    leading = reader.read_bits(LEADING_ZEROS_BITS)
    meaningful = reader.read_bits(MEANINGFUL_BITS_BITS) or WORD_BITS
    if leading + meaningful > WORD_BITS:
        raise FormatError(f"XOR window of {leading} leading zeros and {meaningful} bits exceeds 64")
    return leading, WORD_BITS - leading - meaningful


def decode_values_reference(blob, count):
    """Inverse of `encode_values_reference`: float64 array of `count` values."""
    count = check_count_fits(count, blob, minimum_value_bits, "value")
    if count == 0:
        return np.zeros(0, dtype=np.float64)
    reader = BitReader(blob)
    value = reader.read_bits(VALUE_FIRST_BITS)
    out = [value]
    window = None
    for _ in range(count - 1):
        if reader.read_bit():  # '1': the value changed
            if reader.read_bit():  # '11': a new window
                window = _read_window(reader)
            elif window is None:  # '10' with nothing to reuse
                raise FormatError("XOR record reuses a window before any window was defined")
            leading, trailing = window
            value ^= reader.read_bits(WORD_BITS - leading - trailing) << trailing
        out.append(value)
    check_stream_end(reader.position, blob, "value")
    return np.array(out, dtype=np.uint64).view(np.float64)
