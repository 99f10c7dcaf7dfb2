"""Zigzag and LEB128 varints: how a 64-bit integer becomes as few bytes as its size needs.

- zigzag maps signed to unsigned so that small magnitudes become small numbers
  (0, -1, 1, -2, 2 -> 0, 1, 2, 3, 4), which a varint then stores in few bytes.
- LEB128 varints store an unsigned integer in 7-bit groups, low group first, with the high bit of
  each byte saying "more follows": 300 = 0b10_0101100 -> bytes 0xAC 0x02.

Together: -150 zigzags to 299 = 0b10_0101011 and is stored as the two bytes 0xAB 0x02.

Arithmetic is done on uint64 views, so every int64 input round-trips, extremes included:
zigzag(INT64_MIN) is 2**64 - 1, a ten-byte varint. Decoders raise `FormatError` for truncated or
malformed input.
"""
import numpy as np

from lib.bitstream.stream import MASK64
from lib.errors import FormatError

VARINT_MAX_BYTES = 10  # ceil(64 / 7): a uint64 never needs more than ten 7-bit groups
_VARINT_PAYLOAD = 0x7F
_VARINT_MORE = 0x80


def zigzag_encode(values):
    """int64 -> uint64: (x << 1) ^ (x >> 63), so 0, -1, 1, -2 become 0, 1, 2, 3."""
    signed = np.ascontiguousarray(values, dtype=np.int64)
    sign_fill = (signed >> 63).view(np.uint64)  # arithmetic shift: all ones for negatives
    return (signed.view(np.uint64) << np.uint64(1)) ^ sign_fill


def zigzag_decode(encoded):
    """uint64 -> int64, the inverse of `zigzag_encode`: (u >> 1) ^ -(u & 1)."""
    return zigzag_decode_in_place(np.array(encoded, dtype=np.uint64))


def zigzag_decode_in_place(unsigned):
    """`zigzag_decode` of a uint64 array written over it (returned as its int64 view): decoders of
    long streams keep one array instead of three. Its one temporary is the sign of every value."""
    sign_fill = unsigned & np.uint64(1)
    np.negative(sign_fill, out=sign_fill)  # wraps to all ones when odd
    unsigned >>= np.uint64(1)
    unsigned ^= sign_fill
    return unsigned.view(np.int64)


def zigzag_decode_int(unsigned):
    """`zigzag_decode` of one Python int below 2**64, without numpy's per-call cost: 3 -> -2, 4 -> 2."""
    return (unsigned >> 1) ^ -(unsigned & 1)


def varint_size(value):
    """Bytes of a non-negative integer as an unsigned LEB128 varint, 7 bits a byte: 127 -> 1, 128 -> 2."""
    return max(1, -(-int(value).bit_length() // 7))


SMALL_COUNT = 16  # up to this many varints, a plain Python loop beats numpy's per-call overhead


def _encode_varints_small(values):
    out = bytearray()
    for value in values:
        value = int(value)
        if not -(1 << 63) <= value < (1 << 64):
            raise OverflowError(f"{value} does not fit 64 bits")
        if value < 0:  # as the numpy path views int64 as uint64: -1 -> 2**64 - 1
            value &= MASK64
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


_GROUP_SHIFTS = np.arange(0, 7 * VARINT_MAX_BYTES, 7, dtype=np.uint64)  # where each 7-bit group starts
_ENCODE_SLICE = 1 << 15  # values encoded at once: the group matrix stays a few MB, within the caches


def encode_varints(values):
    """uint64 array -> bytes, each value as an unsigned LEB128 varint.

    Arrays go through a matrix of every value's 7-bit groups, one row per value and as many
    columns as the largest value needs; a group is written when it or a higher one is non-zero,
    with the "more follows" bit when the next one is, and the written groups read row by row are
    the stream: [5, 300] -> rows [05 00], [2C 02] -> written 05 | AC 02. Arrays of values below
    128, the common case, are their own bytes; long arrays go a slice at a time."""
    if isinstance(values, (list, tuple)) and len(values) <= SMALL_COUNT:
        return _encode_varints_small(values)
    unsigned = np.ascontiguousarray(values, dtype=np.uint64)
    if unsigned.size <= SMALL_COUNT:
        return _encode_varints_small(unsigned.tolist())
    if unsigned.size > _ENCODE_SLICE:
        return b"".join(encode_varints(unsigned[start:start + _ENCODE_SLICE])
                        for start in range(0, unsigned.size, _ENCODE_SLICE))
    groups = varint_size(unsigned.max())
    if groups == 1:
        return unsigned.astype(np.uint8).tobytes()
    rest = unsigned[:, None] >> _GROUP_SHIFTS[:groups]  # [value, g]: the value without its g lowest groups
    written = rest != 0
    written[:, 0] = True
    out = (rest & np.uint64(_VARINT_PAYLOAD)).astype(np.uint8)
    out[:, :-1] |= written[:, 1:].view(np.uint8) << 7
    return out[written].tobytes()


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
