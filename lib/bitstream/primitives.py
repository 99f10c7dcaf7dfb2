"""Small integer transforms that make time series cheap to store: numpy in, numpy out.

- zigzag maps signed to unsigned so that small magnitudes become small numbers
  (0, -1, 1, -2, 2 -> 0, 1, 2, 3, 4), which a varint then stores in few bytes.
- LEB128 varints store an unsigned integer in 7-bit groups, low group first, with the high bit of
  each byte saying "more follows": 300 = 0b10_0101100 -> bytes 0xAC 0x02.
- delta and delta-of-delta turn a regular sequence (timestamps every 15 s) into mostly zeros.
- run-length encoding turns a constant stretch into one (value, count) pair.

Arithmetic is done modulo 2**64 (on uint64 views), the way the hardware does it, so every int64
input round-trips, extremes included: the delta from INT64_MIN to INT64_MAX "wraps" to -1, and
adding -1 to INT64_MIN wraps back to INT64_MAX. The trade-off: a wrapped delta is no longer the
true difference, so these are codecs, not arithmetic helpers.

Decoders raise `FormatError` for truncated or malformed input.
"""
import numpy as np

from lib.errors import FormatError

VARINT_MAX_BYTES = 10  # ceil(64 / 7): a uint64 never needs more than ten 7-bit groups
_VARINT_PAYLOAD = 0x7F
_VARINT_MORE = 0x80


def _as_int64(values):
    return np.ascontiguousarray(values, dtype=np.int64)


def _as_uint64(values):
    return np.ascontiguousarray(values, dtype=np.uint64)


def to_signed64(value):
    """A Python int as the int64 it is modulo 2**64: 2**63 -> -2**63, -1 -> -1."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def zigzag_encode(values):
    """int64 -> uint64: (x << 1) ^ (x >> 63), so 0, -1, 1, -2 become 0, 1, 2, 3."""
    signed = _as_int64(values)
    sign_fill = (signed >> 63).view(np.uint64)  # arithmetic shift: all ones for negatives
    return (signed.view(np.uint64) << np.uint64(1)) ^ sign_fill


def zigzag_decode(encoded):
    """uint64 -> int64, the inverse of `zigzag_encode`: (u >> 1) ^ -(u & 1)."""
    unsigned = _as_uint64(encoded)
    sign_fill = np.uint64(0) - (unsigned & np.uint64(1))  # wraps to all ones when odd
    return ((unsigned >> np.uint64(1)) ^ sign_fill).view(np.int64)


def _varint_lengths(unsigned):
    """Bytes each uint64 needs: 1 + the number of 7-bit thresholds it reaches."""
    lengths = np.ones(unsigned.shape, dtype=np.int64)
    for group in range(1, VARINT_MAX_BYTES):
        lengths += unsigned >= np.uint64(1 << (7 * group))
    return lengths


SMALL_COUNT = 16  # up to this many varints, a plain Python loop beats numpy's per-call overhead


def _encode_varints_small(values):
    out = bytearray()
    for value in values:
        value = int(value)
        if not -(1 << 63) <= value < (1 << 64):
            raise OverflowError(f"{value} does not fit 64 bits")
        if value < 0:  # as the numpy path views int64 as uint64: -1 -> 2**64 - 1
            value &= (1 << 64) - 1
        while value > _VARINT_PAYLOAD:
            out.append((value & _VARINT_PAYLOAD) | _VARINT_MORE)
            value >>= 7
        out.append(value)
    return bytes(out)


def _read_varints_small(data, count, offset):
    values, offset = read_varint_list(data, count, offset)
    return np.array(values, dtype=np.uint64), offset


def read_varint_list(data, count, offset=0):
    """`count` varints at `offset` as Python ints: (list, end offset). For headers of a few fields,
    where a plain loop beats numpy's per-call overhead."""
    values = []
    for _ in range(count):
        if offset < len(data) and data[offset] < _VARINT_MORE:  # one byte, the common case
            values.append(data[offset])
            offset += 1
            continue
        value = shift = 0
        while True:
            if offset >= len(data):
                raise FormatError(f"varints truncated: found {len(values)} of {count}")
            byte = data[offset]
            offset += 1
            value |= (byte & _VARINT_PAYLOAD) << shift
            if byte < _VARINT_MORE:
                break
            shift += 7
            if shift >= 7 * VARINT_MAX_BYTES:
                raise FormatError(f"varint at byte {offset - VARINT_MAX_BYTES} is longer than {VARINT_MAX_BYTES} bytes")
        if value >> 64:
            raise FormatError("varint overflows 64 bits")
        values.append(value)
    return values, offset


def encode_varints(values):
    """uint64 array -> bytes, each value as an unsigned LEB128 varint."""
    if isinstance(values, (list, tuple)) and len(values) <= SMALL_COUNT:
        return _encode_varints_small(values)
    unsigned = _as_uint64(values)
    if unsigned.size <= SMALL_COUNT:
        return _encode_varints_small(unsigned.tolist())
    lengths = _varint_lengths(unsigned)
    starts = np.cumsum(lengths) - lengths
    out = np.zeros(int(lengths.sum()), dtype=np.uint8)
    for group in range(VARINT_MAX_BYTES):
        has_group = lengths > group
        if not has_group.any():
            break
        chunk = (unsigned[has_group] >> np.uint64(7 * group)) & np.uint64(_VARINT_PAYLOAD)
        more = np.where(lengths[has_group] > group + 1, _VARINT_MORE, 0).astype(np.uint64)
        out[starts[has_group] + group] = (chunk | more).astype(np.uint8)
    return out.tobytes()


def read_varints(data, count, offset=0):
    """Decode `count` varints starting at byte `offset`; return (uint64 array, end offset)."""
    if count < 0:
        raise FormatError(f"negative varint count {count}")
    available = len(data) - offset
    if count > available:
        # Every varint is at least one byte; refuse before allocating anything count-sized.
        raise FormatError(f"{count} varints cannot fit in {available} bytes")
    if count == 0:
        return np.zeros(0, dtype=np.uint64), offset
    if count <= SMALL_COUNT:
        return _read_varints_small(data, count, offset)
    window = np.frombuffer(data, dtype=np.uint8, offset=offset,
                           count=min(available, count * VARINT_MAX_BYTES))
    last_bytes = np.flatnonzero(window < _VARINT_MORE)[:count]
    if last_bytes.size < count:
        raise FormatError(f"varints truncated: found {last_bytes.size} of {count}")
    starts = np.concatenate(([0], last_bytes[:-1] + 1))
    lengths = last_bytes - starts + 1
    if lengths.max() > VARINT_MAX_BYTES:
        where = int(starts[np.argmax(lengths > VARINT_MAX_BYTES)]) + offset
        raise FormatError(f"varint at byte {where} is longer than {VARINT_MAX_BYTES} bytes")
    tenth = lengths == VARINT_MAX_BYTES
    if tenth.any() and (window[last_bytes[tenth]] > 1).any():
        # The tenth group holds bit 63 only; anything more does not fit 64 bits.
        raise FormatError("varint overflows 64 bits")
    values = np.zeros(count, dtype=np.uint64)
    for group in range(int(lengths.max())):
        has_group = lengths > group
        chunk = window[starts[has_group] + group].astype(np.uint64) & np.uint64(_VARINT_PAYLOAD)
        values[has_group] |= chunk << np.uint64(7 * group)
    return values, offset + int(last_bytes[-1]) + 1


def decode_varints(data, count):
    """bytes -> uint64 array of exactly `count` varints filling all of `data`."""
    values, end = read_varints(data, count)
    if end != len(data):
        raise FormatError(f"{len(data) - end} trailing bytes after {count} varints")
    return values


def encode_delta(values):
    """[x0, x1, x2, ...] -> [x0, x1 - x0, x2 - x1, ...] with wrapping int64 arithmetic."""
    unsigned = _as_int64(values).view(np.uint64)
    out = unsigned.copy()
    out[1:] = unsigned[1:] - unsigned[:-1]
    return out.view(np.int64)


def decode_delta(deltas):
    """Inverse of `encode_delta`: a running sum, wrapping like the encoder did."""
    return np.cumsum(_as_int64(deltas).view(np.uint64), dtype=np.uint64).view(np.int64)


def encode_delta_of_delta(values):
    """[x0, x1, x2, x3, ...] -> [x0, d1, d2 - d1, d3 - d2, ...] where d_i = x_i - x_(i-1).

    The first delta is kept as it is: it is what the later differences are relative to.
    """
    deltas = encode_delta(values)
    out = deltas.copy()
    out[1:] = encode_delta(deltas[1:])
    return out


def decode_delta_of_delta(encoded):
    """Inverse of `encode_delta_of_delta`: rebuild the deltas, then the values."""
    encoded = _as_int64(encoded)
    deltas = encoded.copy()
    deltas[1:] = decode_delta(encoded[1:])
    return decode_delta(deltas)


def _comparable(values):
    """Floats compare by bit pattern, so NaN runs and -0.0 versus 0.0 are handled exactly."""
    if values.dtype.kind == "f":
        return values.view(np.dtype(f"u{values.dtype.itemsize}"))
    return values


def run_length_encode(values):
    """Return (run_values, run_lengths): [7, 7, 7, 2, 2] -> ([7, 2], [3, 2])."""
    values = np.ascontiguousarray(values)
    if values.size == 0:
        return values[:0].copy(), np.zeros(0, dtype=np.int64)
    keys = _comparable(values)
    run_starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    run_lengths = np.diff(np.append(run_starts, values.size))
    return values[run_starts], run_lengths.astype(np.int64)


def run_length_decode(run_values, run_lengths, expected_count=None):
    """Inverse of `run_length_encode`: repeat each value by its run length.

    Pass `expected_count` when the lengths come from untrusted bytes: a damaged length is then
    refused before it can make numpy allocate a huge array.
    """
    run_values = np.ascontiguousarray(run_values)
    run_lengths = np.ascontiguousarray(run_lengths, dtype=np.int64)
    if run_values.shape != run_lengths.shape:
        raise FormatError(f"{run_values.size} run values but {run_lengths.size} run lengths")
    if run_lengths.size and run_lengths.min() < 1:
        raise FormatError("run lengths must be positive")
    if expected_count is not None:
        if run_lengths.size and run_lengths.max() > expected_count:
            raise FormatError(f"a run of {run_lengths.max()} values exceeds the expected {expected_count}")
        total = int(run_lengths.sum())  # every length is bounded, so this cannot overflow
        if total != expected_count:
            raise FormatError(f"runs add up to {total} values, expected {expected_count}")
    return np.repeat(run_values, run_lengths)
