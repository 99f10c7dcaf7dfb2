"""Gorilla compression of timestamps and float values (Pelkonen et al., VLDB 2015).

Both codecs exploit that consecutive samples of a metric resemble each other:

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

Stream layouts (MSB-first bits, last byte zero-padded; the point count is stored by the caller):

    timestamps: first timestamp (64 bits, two's complement)
                [if count >= 2] unit length L (6 bits), unit (L bits), then count - 1 delta-of-delta
                codes of the timestamps divided by the unit
    values:     first value (64 bits, IEEE 754 pattern), then count - 1 XOR codes

Choices this module makes where the paper leaves room, so that *every* int64 and *every* float64
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

Each codec exists twice. The `*_reference` functions are one loop over `BitWriter`/`BitReader`
that reads like the paper. The public `encode_*`/`decode_*` functions are numpy-vectorized and
produce byte-identical streams (the tests prove it): the encoders compute every code at once and
pack all fields with cumulative bit offsets; the decoders walk only the record boundaries in a
tight Python loop (each record's length depends on what came before) and then extract all
payloads at once. `timestamp_encoding_stats` / `value_encoding_stats` report where the bits go.
"""
import math

import numpy as np

from lib.bitstream.packing import pack_bit_fields, read_bit_fields, words_for_reading
from lib.bitstream.stream import WORD_BITS, BitReader, BitWriter
from lib.codecs.delta import to_signed64
from lib.errors import FormatError

_MASK64 = (1 << 64) - 1
_U64 = np.uint64


TIMESTAMP_FIRST_BITS = 64
UNIT_LENGTH_BITS = 6
LARGEST_UNIT = 1 << 62  # used instead of the gcd 2**63, which needs 64 bits
# Delta-of-delta classes, indexed by the number of leading 1 bits in the prefix: class k has the
# prefix '1' * k + '0' (the last class, 4, has no terminating '0') and a payload of this many bits.
DOD_PAYLOAD_BITS = (0, 7, 9, 12, 64)
DOD_ESCAPE_CLASS = len(DOD_PAYLOAD_BITS) - 1
DOD_PREFIX_BITS = tuple(min(k + 1, DOD_ESCAPE_CLASS) for k in range(len(DOD_PAYLOAD_BITS)))
DOD_PREFIXES = tuple(((1 << k) - 1) << (DOD_PREFIX_BITS[k] - k) for k in range(len(DOD_PAYLOAD_BITS)))
DOD_CLASS_NAMES = ("zero", "7-bit", "9-bit", "12-bit", "64-bit escape")


VALUE_FIRST_BITS = 64
LEADING_ZEROS_BITS = 5
MAX_LEADING_ZEROS = (1 << LEADING_ZEROS_BITS) - 1  # 31: more leading zeros are clamped to this
MEANINGFUL_BITS_BITS = 6  # 1..64, with 64 stored as 0
XOR_SAME = 0b0  # '0': value repeats
XOR_SAME_BITS = 1
XOR_REUSE_WINDOW = 0b10  # '10': meaningful bits inside the previous window
XOR_NEW_WINDOW = 0b11  # '11': a new window follows
XOR_CONTROL_BITS = 2
XOR_NEW_HEADER_BITS = XOR_CONTROL_BITS + LEADING_ZEROS_BITS + MEANINGFUL_BITS_BITS  # 13
XOR_CLASS_NAMES = ("same", "reuse window", "new window")


def _as_timestamps(timestamps):
    return np.ascontiguousarray(timestamps, dtype=np.int64)


def _as_value_bits(values):
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def _check_count(count, blob, minimum_bits_for):
    """Validate `count` before anything is allocated; `minimum_bits_for(count)` is a lower bound."""
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 0:
        raise FormatError(f"point count must be a non-negative integer, got {count!r}")
    minimum_bits = minimum_bits_for(int(count))
    if minimum_bits > 8 * len(blob):
        # Every point costs at least one bit, so this refuses absurd counts before allocating.
        raise FormatError(
            f"{len(blob)} bytes cannot hold {count} points (need at least {minimum_bits} bits)"
        )


def _check_stream_end(end_bit, blob, what):
    if end_bit > 8 * len(blob):
        raise FormatError(f"{what} stream truncated: needs {end_bit} bits, has {8 * len(blob)}")
    if (end_bit + 7) // 8 != len(blob):
        raise FormatError(f"{what} stream has {len(blob) - (end_bit + 7) // 8} trailing bytes")


def _minimum_timestamp_bits(count):
    # The header, then at least one bit per delta-of-delta ('0').
    if count == 0:
        return 0
    if count == 1:
        return TIMESTAMP_FIRST_BITS
    return TIMESTAMP_FIRST_BITS + UNIT_LENGTH_BITS + 1 + (count - 1)


def _minimum_value_bits(count):
    return 0 if count == 0 else VALUE_FIRST_BITS + (count - 1)




def _common_unit(deltas):
    """The largest unit every delta is a multiple of (1 if all deltas are zero)."""
    unit = 0
    for delta in deltas:
        unit = math.gcd(unit, delta)
    return _representable_unit(unit)


def _representable_unit(gcd):
    """The gcd, except 0 (no deltas, or all zero) becomes 1 and 2**63 becomes 2**62."""
    if gcd == 0:
        return 1
    return LARGEST_UNIT if gcd.bit_length() > WORD_BITS - 1 else gcd


def _dod_class(dod):
    """Smallest class whose payload holds dod: an n-bit field covers -(2**(n-1) - 1)..2**(n-1)."""
    if dod == 0:
        return 0
    for k in range(1, DOD_ESCAPE_CLASS):
        half = 1 << (DOD_PAYLOAD_BITS[k] - 1)
        if -(half - 1) <= dod <= half:
            return k
    return DOD_ESCAPE_CLASS


def encode_timestamps_reference(timestamps):
    """Gorilla timestamp compression, one delta-of-delta at a time (see the module docstring)."""
    ts = [int(t) for t in _as_timestamps(timestamps)]
    if not ts:
        return b""
    writer = BitWriter()
    writer.write_bits(ts[0] & _MASK64, TIMESTAMP_FIRST_BITS)
    if len(ts) == 1:
        return writer.to_bytes()
    deltas = [to_signed64(current - previous) for previous, current in zip(ts, ts[1:])]
    unit = _common_unit(deltas)
    writer.write_bits(unit.bit_length(), UNIT_LENGTH_BITS)
    writer.write_bits(unit, unit.bit_length())
    previous_delta = 0
    for delta in deltas:
        delta //= unit  # exact: the unit divides every delta
        dod = to_signed64(delta - previous_delta)
        previous_delta = delta
        k = _dod_class(dod)
        writer.write_bits(DOD_PREFIXES[k], DOD_PREFIX_BITS[k])
        if DOD_PAYLOAD_BITS[k]:
            # Two's complement in n bits, e.g. -1 in 7 bits is 0b1111111.
            writer.write_bits(dod & ((1 << DOD_PAYLOAD_BITS[k]) - 1), DOD_PAYLOAD_BITS[k])
    return writer.to_bytes()


def _read_dod(reader):
    k = 0
    while k < DOD_ESCAPE_CLASS and reader.read_bit():
        k += 1
    width = DOD_PAYLOAD_BITS[k]
    if width == 0:
        return 0
    raw = reader.read_bits(width)
    # Undo the two's complement: 7-bit 0b1111111 (127 > 64) means 127 - 128 = -1.
    return raw - (1 << width) if raw > 1 << (width - 1) else raw


def _read_unit(reader):
    length = reader.read_bits(UNIT_LENGTH_BITS)
    if length == 0:
        raise FormatError("timestamp unit has length 0")
    unit = reader.read_bits(length)
    if unit.bit_length() != length:
        raise FormatError(f"timestamp unit {unit} does not have its stated length {length}")
    return unit


def decode_timestamps_reference(blob, count):
    """Inverse of `encode_timestamps_reference`: int64 array of `count` timestamps."""
    _check_count(count, blob, _minimum_timestamp_bits)
    if count == 0:
        _check_stream_end(0, blob, "timestamp")
        return np.zeros(0, dtype=np.int64)
    reader = BitReader(blob)
    timestamp = to_signed64(reader.read_bits(TIMESTAMP_FIRST_BITS))
    out = [timestamp]
    if count > 1:
        unit = _read_unit(reader)
        delta = 0
        for _ in range(count - 1):
            delta = to_signed64(delta + _read_dod(reader))
            timestamp = to_signed64(timestamp + delta * unit)
            out.append(timestamp)
    _check_stream_end(reader.position, blob, "timestamp")
    return np.array(out, dtype=np.int64)


def encode_values_reference(values):
    """Gorilla XOR compression, one value at a time (see the module docstring)."""
    bits = [int(b) for b in _as_value_bits(values)]
    if not bits:
        return b""
    writer = BitWriter()
    writer.write_bits(bits[0], VALUE_FIRST_BITS)
    window = None  # (leading, trailing) zeros of the last '11' record
    for previous, current in zip(bits, bits[1:]):
        xor = previous ^ current
        if xor == 0:
            writer.write_bits(XOR_SAME, XOR_SAME_BITS)
            continue
        leading = min(WORD_BITS - xor.bit_length(), MAX_LEADING_ZEROS)
        # xor & -xor keeps only the lowest set bit: 0b101000 & -0b101000 == 0b1000 -> 3 trailing.
        trailing = (xor & -xor).bit_length() - 1
        if window is not None and leading >= window[0] and trailing >= window[1]:
            writer.write_bits(XOR_REUSE_WINDOW, XOR_CONTROL_BITS)
            writer.write_bits(xor >> window[1], WORD_BITS - window[0] - window[1])
        else:
            window = (leading, trailing)
            meaningful = WORD_BITS - leading - trailing
            writer.write_bits(XOR_NEW_WINDOW, XOR_CONTROL_BITS)
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
    _check_count(count, blob, _minimum_value_bits)
    if count == 0:
        _check_stream_end(0, blob, "value")
        return np.zeros(0, dtype=np.float64)
    reader = BitReader(blob)
    value = reader.read_bits(VALUE_FIRST_BITS)
    out = [value]
    window = None
    for _ in range(count - 1):
        if reader.read_bit():
            if reader.read_bit():
                window = _read_window(reader)
            elif window is None:
                raise FormatError("XOR record reuses a window before any window was defined")
            leading, trailing = window
            value ^= reader.read_bits(WORD_BITS - leading - trailing) << trailing
        out.append(value)
    _check_stream_end(reader.position, blob, "value")
    return np.array(out, dtype=np.uint64).view(np.float64)




def _interleave(first, second):
    out = np.empty(2 * len(first), dtype=first.dtype)
    out[0::2] = first
    out[1::2] = second
    return out


def _timestamp_plan(timestamps):
    """Everything the fast encoder and the stats need: (unit, dod, dod classes)."""
    ts = _as_timestamps(timestamps)
    as_unsigned = ts.view(np.uint64)
    deltas = (as_unsigned[1:] - as_unsigned[:-1]).view(np.int64)  # wrapping subtraction
    magnitudes = np.where(deltas < 0, _U64(0) - deltas.view(np.uint64), deltas.view(np.uint64))
    unit = _representable_unit(int(np.gcd.reduce(magnitudes)) if magnitudes.size else 0)
    if unit != 1:
        deltas = deltas // unit  # exact, and no overflow: unit >= 2
    dod = deltas.copy()
    dod[1:] = (deltas[1:].view(np.uint64) - deltas[:-1].view(np.uint64)).view(np.int64)
    classes = (dod != 0).astype(np.int8)
    for k in range(1, DOD_ESCAPE_CLASS):
        half = 1 << (DOD_PAYLOAD_BITS[k] - 1)
        classes += (dod < -(half - 1)) | (dod > half)
    return unit, dod, classes


def encode_timestamps(timestamps):
    """int64 array of timestamps -> Gorilla delta-of-delta bytes (decode with the count)."""
    ts = _as_timestamps(timestamps)
    if ts.size == 0:
        return b""
    if ts.size == 1:
        return int(ts[0]).to_bytes(8, "big", signed=True)
    unit, dod, classes = _timestamp_plan(ts)
    payload_bits = np.array(DOD_PAYLOAD_BITS, dtype=np.int64)[classes]
    prefix_bits = np.array(DOD_PREFIX_BITS, dtype=np.int64)[classes]
    prefixes = np.array(DOD_PREFIXES, dtype=np.uint64)[classes]
    dod_bits = dod.view(np.uint64)
    escape = classes == DOD_ESCAPE_CLASS
    short_payload = np.where(escape, 0, payload_bits).astype(np.uint64)
    # Short classes fit prefix and payload in one field ('10' + 7 bits = 9 bits); the escape
    # class is two fields, '1111' then 64 bits.
    heads = (prefixes << short_payload) | (dod_bits & ((_U64(1) << short_payload) - _U64(1)))
    head_bits = prefix_bits + short_payload.astype(np.int64)
    tails = np.where(escape, dod_bits, _U64(0))
    tail_bits = np.where(escape, WORD_BITS, 0)
    unit_length = unit.bit_length()
    header = np.array([ts[0].view(np.uint64), unit_length, unit], dtype=np.uint64)
    header_bits = np.array([TIMESTAMP_FIRST_BITS, UNIT_LENGTH_BITS, unit_length])
    return pack_bit_fields(
        np.concatenate((header, _interleave(heads, tails))),
        np.concatenate((header_bits, _interleave(head_bits, tail_bits))),
    )


def _peek_windows(blob):
    """For each 32-bit block of the stream, the 64 bits starting there, as a Python list.

    The decoder loops read a few bits at any bit position p with one list lookup and two shifts:
    (windows[p >> 5] >> (64 - (p & 31) - n)) & (2**n - 1), for n <= 32.
    """
    padded = bytes(blob) + bytes(-len(blob) % 4 + 8)
    halves = np.frombuffer(padded, dtype=">u4").astype(np.uint64)
    return ((halves[:-1] << _U64(32)) | halves[1:]).tolist()


def _leading_ones(value, width):
    """Number of 1 bits before the first 0 in a `width`-bit value: _leading_ones(0b1101, 4) == 2."""
    ones = 0
    while ones < width and value >> (width - 1 - ones) & 1:
        ones += 1
    return ones


# The class and total length of a delta-of-delta record, looked up by the 4 bits at its start:
# '10xx' is class 1, 2 + 7 bits long.
_DOD_PEEK_BITS = DOD_ESCAPE_CLASS
_DOD_PEEK_MASK = (1 << _DOD_PEEK_BITS) - 1
_DOD_CLASS_BY_PEEK = tuple(_leading_ones(peek, _DOD_PEEK_BITS) for peek in range(1 << _DOD_PEEK_BITS))
_DOD_LENGTH_BY_PEEK = tuple(DOD_PREFIX_BITS[k] + DOD_PAYLOAD_BITS[k] for k in _DOD_CLASS_BY_PEEK)


def _dod_record_starts(windows, start, count):
    """Bit offsets of `count` consecutive delta-of-delta records, the first at `start`."""
    lengths, mask = _DOD_LENGTH_BY_PEEK, _DOD_PEEK_MASK
    shift_base = WORD_BITS - _DOD_PEEK_BITS
    starts = [0] * (count + 1)
    position = start
    try:
        for i in range(count):
            starts[i] = position
            position += lengths[(windows[position >> 5] >> (shift_base - (position & 31))) & mask]
    except IndexError:
        raise FormatError("timestamp stream truncated inside a delta-of-delta record") from None
    starts[count] = position
    return np.array(starts, dtype=np.int64)


def decode_timestamps(blob, count):
    """Gorilla delta-of-delta bytes -> int64 array of `count` timestamps."""
    _check_count(count, blob, _minimum_timestamp_bits)
    if count == 0:
        _check_stream_end(0, blob, "timestamp")
        return np.zeros(0, dtype=np.int64)
    first = int.from_bytes(blob[:8], "big", signed=True)
    if count == 1:
        _check_stream_end(TIMESTAMP_FIRST_BITS, blob, "timestamp")
        return np.array([first], dtype=np.int64)
    reader = BitReader(blob[:17])  # the header is at most 64 + 6 + 63 bits
    reader.position = TIMESTAMP_FIRST_BITS
    unit = _read_unit(reader)
    starts = _dod_record_starts(_peek_windows(blob), reader.position, count - 1)
    _check_stream_end(int(starts[-1]), blob, "timestamp")
    starts = starts[:-1]
    words = words_for_reading(blob)
    classes = np.array(_DOD_CLASS_BY_PEEK, dtype=np.int64)[read_bit_fields(words, starts, _DOD_PEEK_BITS)]
    widths = np.array(DOD_PAYLOAD_BITS, dtype=np.int64)[classes]
    raw = read_bit_fields(
        words, starts + np.array(DOD_PREFIX_BITS, dtype=np.int64)[classes], np.maximum(widths, 1)
    )
    raw[classes == 0] = 0
    # Two's complement in n bits; for the 64-bit escape the modulus 2**64 is 0, i.e. a no-op.
    half = (_U64(1) << (widths - 1).clip(0).astype(np.uint64))
    modulus = np.where(widths < WORD_BITS, _U64(1) << widths.clip(0, 63).astype(np.uint64), _U64(0))
    dod = raw - np.where(raw > half, modulus, _U64(0))
    deltas = np.cumsum(dod, dtype=np.uint64) * _U64(unit)
    out = np.empty(count, dtype=np.uint64)
    out[0] = _U64(first & _MASK64)
    out[1:] = deltas
    return np.cumsum(out, dtype=np.uint64).view(np.int64)


def _clamped_leading_zeros(x):
    """min(leading zero bits, 31) of uint64 values, via the float exponent of the top 31 bits.

    Only whether a value has fewer than 31 leading zeros matters, and if so how many: that is
    decided by x >> 33, which has at most 31 bits and so converts to float64 exactly.
    frexp(v) = (m, e) with v = m * 2**e and 0.5 <= m < 1, so e is v's bit length (0 for 0).
    """
    top = (x >> _U64(WORD_BITS - MAX_LEADING_ZEROS)).astype(np.float64)
    return MAX_LEADING_ZEROS - np.frexp(top)[1]


def _trailing_zeros(x):
    """Count trailing zero bits of nonzero uint64 values: x & -x is a power of two, exact in float."""
    lowest_bit = (x & (_U64(0) - x)).astype(np.float64)
    return np.frexp(lowest_bit)[1] - 1


# A window as one int: (leading + 1) << 8 | (trailing + 1). Both fields are below 128, so with a
# guard bit set above each field, (candidate | guards) - window keeps both guard bits exactly when
# no field borrowed, i.e. when the candidate's leading and trailing zeros are both >= the window's.
# The +1 lets the key 0 serve as a sentinel that fits no window.
_WINDOW_KEY_SHIFT = 8
_WINDOW_KEY_GUARDS = 0x8080


def _window_keys(leading, trailing):
    return ((leading.astype(np.int32) + 1) << _WINDOW_KEY_SHIFT) | (trailing.astype(np.int32) + 1)


def _fits_window(candidate_keys, window_keys):
    guards = _WINDOW_KEY_GUARDS
    return (((candidate_keys | guards) - window_keys) & guards) == guards


def _next_window_change(leading, trailing):
    """For each nonzero XOR j: the index of the first later XOR that does not fit j's window.

    XOR k fits the window opened at j when leading[k] >= leading[j] and trailing[k] >= trailing[j].
    Start with candidate j + 1 and, while the candidate c fits, jump to c's own candidate: every
    XOR between c and c's next change fits c's window, hence j's. Jumps grow like pointer
    jumping, so this takes a few dozen rounds over a shrinking set of unresolved indices.
    """
    n = leading.size
    keys = np.zeros(n + 1, dtype=np.int32)  # keys[n] == 0 is the sentinel
    keys[:n] = _window_keys(leading, trailing)
    candidate = np.arange(1, n + 1, dtype=np.int32)
    # The first round compares neighbours, which needs no gather.
    unresolved = np.flatnonzero(_fits_window(keys[1:], keys[:-1])).astype(np.int32)
    candidate[unresolved] += 1
    unresolved_keys = keys[unresolved]
    while unresolved.size:
        c = candidate[unresolved]
        fits = _fits_window(keys[c], unresolved_keys)
        unresolved = unresolved[fits]
        unresolved_keys = unresolved_keys[fits]
        candidate[unresolved] = candidate[c[fits]]
    return candidate


def _window_openers(leading, trailing):
    """Which nonzero XORs open a new window ('11'), for the sequential rule of the encoder.

    The first nonzero XOR opens a window; from an opener j the next opener is the first XOR that
    does not fit j's window. These jumps never cross: if i < k < next(i), then k fits i's window
    and so next(k) <= next(i). Hence k is an opener exactly when no earlier index jumps past it:
    max(next[i] for i < k) <= k, a prefix maximum instead of a sequential walk.
    """
    n = leading.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    reach = np.maximum.accumulate(_next_window_change(leading, trailing))
    openers = np.empty(n, dtype=bool)
    openers[0] = True
    openers[1:] = reach[:-1] <= np.arange(1, n)
    return openers


def _value_plan(bits):
    """Everything the fast encoder and the stats need, for the uint64 patterns `bits`.

    Returns (nonzero, nonzero_index, opens, leading, trailing, window_leading, window_trailing):
    the nonzero XORs of consecutive values, where they are, and per nonzero XOR whether it opens
    a window, its own leading/trailing zeros and those of the window it is written in.
    """
    xors = bits[1:] ^ bits[:-1]
    nonzero_index = np.flatnonzero(xors)
    nonzero = xors[nonzero_index]
    leading = _clamped_leading_zeros(nonzero).astype(np.int16)
    trailing = _trailing_zeros(nonzero).astype(np.int16)
    opens = _window_openers(leading, trailing)
    last_opener = np.maximum.accumulate(np.where(opens, np.arange(opens.size), 0))
    return nonzero, nonzero_index, opens, leading, trailing, leading[last_opener], trailing[last_opener]


def encode_values(values):
    """float64 array -> Gorilla XOR bytes (decode with the count)."""
    bits = _as_value_bits(values)
    if bits.size == 0:
        return b""
    nonzero, nonzero_index, opens, leading, trailing, window_leading, window_trailing = _value_plan(bits)
    meaningful = (WORD_BITS - window_leading - window_trailing).astype(np.uint64)
    head = np.where(
        opens,
        (XOR_NEW_WINDOW << (LEADING_ZEROS_BITS + MEANINGFUL_BITS_BITS))
        | (leading.astype(np.int64) << MEANINGFUL_BITS_BITS)
        | (meaningful.astype(np.int64) % WORD_BITS),
        XOR_REUSE_WINDOW,
    ).astype(np.uint64)
    head_bits = np.where(opens, XOR_NEW_HEADER_BITS, XOR_CONTROL_BITS).astype(np.uint64)
    payload = nonzero >> window_trailing.astype(np.uint64)

    # One field per record when control, header and payload fit 64 bits ('10' + 52 bits); a
    # longer record ('11' + 13 header bits + 52 bits) is written as two fields. The shift of a
    # 64-bit payload is only ever used for records that are split, so it may be garbage.
    record_bits = head_bits + meaningful
    split = record_bits > WORD_BITS
    first_field = np.where(split, head, (head << np.minimum(meaningful, 63)) | payload)
    first_bits = np.where(split, head_bits, record_bits)

    # Every record starts as '0' (1 bit); the nonzero ones are overwritten. Field positions are
    # shifted by the number of split records before them; slot 0 holds the first value.
    n = bits.size - 1
    extra = np.zeros(n, dtype=np.int64)
    extra[nonzero_index[split]] = 1
    position = np.arange(1, n + 1) + np.cumsum(extra) - extra
    field_count = 1 + n + int(split.sum())
    field_values = np.zeros(field_count, dtype=np.uint64)
    field_bits = np.full(field_count, XOR_SAME_BITS, dtype=np.uint64)
    field_values[0] = bits[0]
    field_bits[0] = VALUE_FIRST_BITS
    nonzero_position = position[nonzero_index]
    field_values[nonzero_position] = first_field
    field_bits[nonzero_position] = first_bits
    second_position = nonzero_position[split] + 1
    field_values[second_position] = payload[split]
    field_bits[second_position] = meaningful[split]
    return pack_bit_fields(field_values, field_bits, clean=True)


_XOR_PEEK_BITS = XOR_NEW_HEADER_BITS  # '11' + leading + meaningful: 13 bits
_XOR_PEEK_MASK = (1 << _XOR_PEEK_BITS) - 1
_XOR_PEEK_REUSE = XOR_REUSE_WINDOW << (_XOR_PEEK_BITS - XOR_CONTROL_BITS)  # 0b10_00000_000000
_XOR_PEEK_NEW = XOR_NEW_WINDOW << (_XOR_PEEK_BITS - XOR_CONTROL_BITS)


def _xor_record_starts(windows, start, count):
    """Bit offsets of `count` consecutive XOR records, the first at `start`.

    The one sequential part of decoding: a '10' record's length is the current window, set by the
    last '11' record. `step` is a '10' record's length (2 + meaningful bits).
    """
    shift_base = WORD_BITS - _XOR_PEEK_BITS
    reuse, new = _XOR_PEEK_REUSE, _XOR_PEEK_NEW
    meaningful_mask = (1 << MEANINGFUL_BITS_BITS) - 1
    starts = [0] * (count + 1)
    position = start
    step = None
    try:
        for i in range(count):
            starts[i] = position
            peek = (windows[position >> 5] >> (shift_base - (position & 31))) & _XOR_PEEK_MASK
            if peek < reuse:
                position += XOR_SAME_BITS
            elif peek < new:
                position += step
            else:
                step = ((peek & meaningful_mask) or WORD_BITS) + XOR_CONTROL_BITS
                position += step + LEADING_ZEROS_BITS + MEANINGFUL_BITS_BITS
    except IndexError:
        raise FormatError("value stream truncated inside an XOR record") from None
    except TypeError:
        raise FormatError("XOR record reuses a window before any window was defined") from None
    starts[count] = position
    return np.array(starts, dtype=np.int64)


def decode_values(blob, count):
    """Gorilla XOR bytes -> float64 array of `count` values."""
    _check_count(count, blob, _minimum_value_bits)
    if count == 0:
        _check_stream_end(0, blob, "value")
        return np.zeros(0, dtype=np.float64)
    starts = _xor_record_starts(_peek_windows(blob), VALUE_FIRST_BITS, count - 1)
    _check_stream_end(int(starts[-1]), blob, "value")
    starts = starts[:-1]
    words = words_for_reading(blob)
    out = np.empty(count, dtype=np.uint64)
    out[0] = words[0]
    xors = np.zeros(count - 1, dtype=np.uint64)
    nonzero_records = np.flatnonzero(read_bit_fields(words, starts, 1))
    if nonzero_records.size:
        nonzero_starts = starts[nonzero_records]
        peeks = read_bit_fields(words, nonzero_starts, _XOR_PEEK_BITS).astype(np.int64)
        opens = peeks >= _XOR_PEEK_NEW
        leading = (peeks >> MEANINGFUL_BITS_BITS) & MAX_LEADING_ZEROS
        meaningful = peeks & ((1 << MEANINGFUL_BITS_BITS) - 1)
        meaningful[meaningful == 0] = WORD_BITS
        if (opens & (leading + meaningful > WORD_BITS)).any():
            raise FormatError("XOR window of leading zeros plus meaningful bits exceeds 64")
        # A '10' record uses the window of the last '11' record before it.
        last_opener = np.maximum.accumulate(np.where(opens, np.arange(opens.size), 0))
        window_leading = leading[last_opener]
        window_meaningful = meaningful[last_opener]
        payload_starts = nonzero_starts + np.where(opens, XOR_NEW_HEADER_BITS, XOR_CONTROL_BITS)
        payloads = read_bit_fields(words, payload_starts, window_meaningful)
        trailing = (WORD_BITS - window_leading - window_meaningful).astype(np.uint64)
        xors[nonzero_records] = payloads << trailing
    out[1:] = xors
    return np.bitwise_xor.accumulate(out).view(np.float64)




def _class_table(names, counts, bits):
    return {name: {"count": int(c), "bits": int(b)} for name, c, b in zip(names, counts, bits)}


def timestamp_encoding_stats(timestamps):
    """How `encode_timestamps` spends its bits on this series.

    Returns a dict: points, unit (the common divisor of the deltas), header_bits (first timestamp
    and unit), total_bits (before padding to bytes), bits_per_point, dod_zero_share (share of
    delta-of-deltas that are 0, over the count - 1 of them) and classes: for each code class in
    DOD_CLASS_NAMES ("zero", "7-bit", "9-bit", "12-bit", "64-bit escape") its count and bits.
    """
    ts = _as_timestamps(timestamps)
    points = int(ts.size)
    counts = np.zeros(len(DOD_PAYLOAD_BITS), dtype=np.int64)
    unit = 1
    header_bits = TIMESTAMP_FIRST_BITS if points else 0
    if points >= 2:
        unit, _dod, classes = _timestamp_plan(ts)
        counts = np.bincount(classes, minlength=len(DOD_PAYLOAD_BITS))
        header_bits += UNIT_LENGTH_BITS + unit.bit_length()
    record_bits = counts * (np.array(DOD_PREFIX_BITS) + np.array(DOD_PAYLOAD_BITS))
    total_bits = header_bits + int(record_bits.sum())
    return {
        "points": points,
        "unit": unit,
        "header_bits": header_bits,
        "total_bits": total_bits,
        "bits_per_point": total_bits / points if points else 0.0,
        "dod_zero_share": float(counts[0] / (points - 1)) if points >= 2 else 0.0,
        "classes": _class_table(DOD_CLASS_NAMES, counts, record_bits),
    }


def value_encoding_stats(values):
    """How `encode_values` spends its bits on this series.

    Returns a dict: points, header_bits (the first value), total_bits (before padding to bytes),
    bits_per_point, xor_zero_share (share of XORs with the previous value that are 0, over the
    count - 1 of them), mean_meaningful_bits (average payload of the nonzero XORs) and classes:
    for each code class in XOR_CLASS_NAMES ("same", "reuse window", "new window") its count and
    bits (control bits, window header and payload together).
    """
    bits = _as_value_bits(values)
    points = int(bits.size)
    counts = [max(points - 1, 0), 0, 0]
    class_bits = [counts[0] * XOR_SAME_BITS, 0, 0]
    mean_meaningful = 0.0
    if points >= 2:
        nonzero, _index, opens, _leading, _trailing, window_leading, window_trailing = _value_plan(bits)
        meaningful = WORD_BITS - window_leading.astype(np.int64) - window_trailing
        counts = [points - 1 - nonzero.size, int(nonzero.size - opens.sum()), int(opens.sum())]
        class_bits = [
            counts[0] * XOR_SAME_BITS,
            counts[1] * XOR_CONTROL_BITS + int(meaningful[~opens].sum()),
            counts[2] * XOR_NEW_HEADER_BITS + int(meaningful[opens].sum()),
        ]
        mean_meaningful = float(meaningful.mean()) if meaningful.size else 0.0
    header_bits = VALUE_FIRST_BITS if points else 0
    total_bits = header_bits + sum(class_bits)
    return {
        "points": points,
        "header_bits": header_bits,
        "total_bits": total_bits,
        "bits_per_point": total_bits / points if points else 0.0,
        "xor_zero_share": counts[0] / (points - 1) if points >= 2 else 0.0,
        "mean_meaningful_bits": mean_meaningful,
        "classes": _class_table(XOR_CLASS_NAMES, counts, class_bits),
    }
