"""Gorilla's streams with numpy: the bytes of reference.py, computed for whole arrays at once.

The encoders compute every code at once and pack all fields with cumulative bit offsets
(lib/bitstream/packing.py); the decoders walk only the record boundaries in a tight Python loop
(each record's length depends on what came before) and then extract all payloads at once. The
tests prove that every stream is byte-identical to the one lib/codecs/gorilla/reference.py writes
one point at a time, and that both decoders agree on damaged input too. The code tables that
reference.py spells out as literals are tables here, indexed by code class, so that a whole
array of classes can look up its prefixes and widths in one step.
"""
from array import array

import numpy as np

from lib.bitstream.packing import pack_bit_fields, read_bit_fields, words_for_reading
from lib.bitstream.stream import WORD_BITS, BitReader
from lib.codecs.gorilla.reference import (
    LEADING_ZEROS_BITS, MASK64, MAX_LEADING_ZEROS, MEANINGFUL_BITS_BITS, TIMESTAMP_FIRST_BITS,
    UNIT_LENGTH_BITS, VALUE_FIRST_BITS, as_timestamps, as_value_bits, check_count_fits, check_stream_end,
    minimum_timestamp_bits, minimum_value_bits, read_unit, representable_unit,
)
from lib.codecs.limits import slices
from lib.errors import FormatError

_U64 = np.uint64

# Delta-of-delta classes, indexed by the number of leading 1 bits in the prefix: class k has the
# prefix '1' * k + '0' (the last class, 4, has no terminating '0') and a payload of this many bits:
# '0', '10' + 7, '110' + 9, '1110' + 12, '1111' + 64.
DOD_PAYLOAD_BITS = (0, 7, 9, 12, 64)
DOD_ESCAPE_CLASS = len(DOD_PAYLOAD_BITS) - 1
DOD_PREFIX_BITS = tuple(min(k + 1, DOD_ESCAPE_CLASS) for k in range(len(DOD_PAYLOAD_BITS)))
DOD_PREFIXES = tuple(((1 << k) - 1) << (DOD_PREFIX_BITS[k] - k) for k in range(len(DOD_PAYLOAD_BITS)))

XOR_SAME_BITS = 1  # '0': value repeats
XOR_REUSE_WINDOW = 0b10  # '10': meaningful bits inside the previous window
XOR_NEW_WINDOW = 0b11  # '11': a new window follows
XOR_CONTROL_BITS = 2
XOR_NEW_HEADER_BITS = XOR_CONTROL_BITS + LEADING_ZEROS_BITS + MEANINGFUL_BITS_BITS  # 13


def _interleave(first, second):
    out = np.empty(2 * len(first), dtype=first.dtype)
    out[0::2] = first
    out[1::2] = second
    return out


def timestamp_plan(timestamps):
    """Everything the fast encoder and the stats need: (unit, dod, dod classes)."""
    ts = as_timestamps(timestamps)
    as_unsigned = ts.view(np.uint64)
    deltas = (as_unsigned[1:] - as_unsigned[:-1]).view(np.int64)  # wrapping subtraction
    magnitudes = np.where(deltas < 0, _U64(0) - deltas.view(np.uint64), deltas.view(np.uint64))
    unit = representable_unit(int(np.gcd.reduce(magnitudes)) if magnitudes.size else 0)
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
    ts = as_timestamps(timestamps)
    if ts.size == 0:
        return b""
    if ts.size == 1:
        return int(ts[0]).to_bytes(8, "big", signed=True)
    unit, dod, classes = timestamp_plan(ts)
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


def _record_starts(walk_records, blob, start, count, what):
    """Bit offsets of the `count` records from bit `start`, checked to end where the blob ends.

    `walk_records(windows, start, count)` returns count + 1 offsets, the last one where the
    stream ends: `_dod_record_starts` for timestamps, `_xor_record_starts` for values. A walk
    that runs off the end of `windows` is a record cut short.
    """
    try:
        starts = walk_records(_peek_windows(blob), start, count)
    except IndexError:
        raise FormatError(f"{what} stream truncated inside a record") from None
    check_stream_end(int(starts[-1]), blob, what)
    return starts[:-1]


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


def decode_timestamps(blob, count):
    """Gorilla delta-of-delta bytes -> int64 array of `count` timestamps."""
    count = check_count_fits(count, blob, minimum_timestamp_bits, "timestamp")
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    first = int.from_bytes(blob[:8], "big", signed=True)
    if count == 1:
        check_stream_end(TIMESTAMP_FIRST_BITS, blob, "timestamp")
        return np.array([first], dtype=np.int64)
    reader = BitReader(blob[:17])  # the header is at most 64 + 6 + 63 bits
    reader.position = TIMESTAMP_FIRST_BITS
    unit = read_unit(reader)
    starts = _record_starts(_dod_record_starts, blob, reader.position, count - 1, "timestamp")
    words = words_for_reading(blob)
    out = np.empty(count, dtype=np.uint64)  # the timestamp, then each delta-of-delta; summed twice in place
    out[0] = _U64(first & MASK64)
    for start, end in slices(starts.size):
        out[1 + start:1 + end] = _delta_of_deltas(words, starts[start:end])
    deltas = out[1:]
    np.cumsum(deltas, dtype=np.uint64, out=deltas)
    deltas *= _U64(unit)
    return np.cumsum(out, dtype=np.uint64, out=out).view(np.int64)


_DOD_CLASSES = np.array(_DOD_CLASS_BY_PEEK, dtype=np.int64)
_DOD_WIDTHS = np.array(DOD_PAYLOAD_BITS, dtype=np.int64)
_DOD_PREFIX_LENGTHS = np.array(DOD_PREFIX_BITS, dtype=np.int64)


def _delta_of_deltas(words, starts):
    """The delta-of-deltas (uint64, modulo 2**64) of the records starting at these bits."""
    classes = _DOD_CLASSES[read_bit_fields(words, starts, _DOD_PEEK_BITS)]
    widths = _DOD_WIDTHS[classes]
    raw = read_bit_fields(words, starts + _DOD_PREFIX_LENGTHS[classes], np.maximum(widths, 1))
    raw[classes == 0] = 0
    # Two's complement in n bits; for the 64-bit escape the modulus 2**64 is 0, i.e. a no-op.
    half = (_U64(1) << (widths - 1).clip(0).astype(np.uint64))
    modulus = np.where(widths < WORD_BITS, _U64(1) << widths.clip(0, 63).astype(np.uint64), _U64(0))
    return raw - np.where(raw > half, modulus, _U64(0))


def _dod_record_starts(windows, start, count):
    """Bit offsets of `count` consecutive delta-of-delta records, the first at `start`."""
    lengths, mask = _DOD_LENGTH_BY_PEEK, _DOD_PEEK_MASK
    shift_base = WORD_BITS - _DOD_PEEK_BITS
    starts = _offsets(count + 1)
    position = start
    for i in range(count):
        starts[i] = position
        position += lengths[(windows[position >> 5] >> (shift_base - (position & 31))) & mask]
    starts[count] = position
    return np.frombuffer(starts, dtype=np.int64)


def _offsets(count):
    """A zeroed array.array of `count` int64: the walks store each record's offset as 8 bytes
    there, not as a Python int object in a list (five times the memory)."""
    return array("q", [0]) * count


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


def value_plan(bits):
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
    bits = as_value_bits(values)
    if bits.size == 0:
        return b""
    nonzero, nonzero_index, opens, leading, trailing, window_leading, window_trailing = value_plan(bits)
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


def decode_values(blob, count):
    """Gorilla XOR bytes -> float64 array of `count` values."""
    count = check_count_fits(count, blob, minimum_value_bits, "value")
    if count == 0:
        return np.zeros(0, dtype=np.float64)
    starts = _record_starts(_xor_record_starts, blob, VALUE_FIRST_BITS, count - 1, "value")
    words = words_for_reading(blob)
    out = np.zeros(count, dtype=np.uint64)  # the first value, then each XOR; XOR-accumulated in place
    out[0] = words[0]
    window = None  # (leading zeros, meaningful bits) of the last '11' record so far
    for start, end in slices(starts.size):
        part = starts[start:end]
        nonzero_records = np.flatnonzero(read_bit_fields(words, part, 1))
        if nonzero_records.size:
            xors, window = _xors(words, part[nonzero_records], window)
            out[1 + start + nonzero_records] = xors
    return np.bitwise_xor.accumulate(out, out=out).view(np.float64)


def _xors(words, starts, window):
    """(XORs, window after them) of the non-zero records ('10' or '11') starting at these bits;
    `window` is the one in force before them (None before the first '11')."""
    peeks = read_bit_fields(words, starts, _XOR_PEEK_BITS).astype(np.int64)
    opens = peeks >= _XOR_PEEK_NEW
    leading = (peeks >> MEANINGFUL_BITS_BITS) & MAX_LEADING_ZEROS
    meaningful = peeks & ((1 << MEANINGFUL_BITS_BITS) - 1)
    meaningful[meaningful == 0] = WORD_BITS
    if (opens & (leading + meaningful > WORD_BITS)).any():
        raise FormatError("XOR window of leading zeros plus meaningful bits exceeds 64")
    # A '10' record uses the window of the last '11' record before it: in these records, or before.
    last_opener = np.maximum.accumulate(np.where(opens, np.arange(opens.size), -1))
    inherited = last_opener < 0
    if inherited.any() and window is None:
        raise FormatError("XOR record reuses a window before any window was defined")
    window_leading = np.where(inherited, window[0] if window else 0, leading[last_opener])
    window_meaningful = np.where(inherited, window[1] if window else 0, meaningful[last_opener])
    payload_starts = starts + np.where(opens, XOR_NEW_HEADER_BITS, XOR_CONTROL_BITS)
    payloads = read_bit_fields(words, payload_starts, window_meaningful)
    trailing = (WORD_BITS - window_leading - window_meaningful).astype(np.uint64)
    return payloads << trailing, (int(window_leading[-1]), int(window_meaningful[-1]))


def _xor_record_starts(windows, start, count):
    """Bit offsets of `count` consecutive XOR records, the first at `start`.

    The one sequential part of decoding: a '10' record's length is the current window, set by the
    last '11' record. `step` is a '10' record's length (2 + meaningful bits).
    """
    shift_base = WORD_BITS - _XOR_PEEK_BITS
    reuse, new = _XOR_PEEK_REUSE, _XOR_PEEK_NEW
    meaningful_mask = (1 << MEANINGFUL_BITS_BITS) - 1
    starts = _offsets(count + 1)
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
    except TypeError:
        raise FormatError("XOR record reuses a window before any window was defined") from None
    starts[count] = position
    return np.frombuffer(starts, dtype=np.int64)
