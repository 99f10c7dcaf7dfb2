"""The decimal codec (tag 2, "decimal"): decimal digits bit-packed at one width, with patches.

The integers of lib/codecs/decimal_digits.py, transformed and centred (lib/codecs/transforms.py),
are bit-packed at one width w per block, "patching" the few that need more than w bits (PFOR,
Zukowski et al. 2006): their high bits go to a side list, so one counter restart or one spike costs
a few bytes instead of widening every value. The writer tries it with `exhaustive` only: bins
(decimal-bins) store the same integers in fewer bytes; golden files keep it readable.

A worked example
----------------
[1.5, 2.25, 3.0]: 1.5 needs e = 1, 2.25 needs e = 2, so e = 2 and the integers are
[150, 225, 300]. Their common factor is 75, leaving [2, 3, 4]. Plain, centred on the median 3,
is [-1, 0, 1], zigzagged [1, 0, 2]: width 2, 6 bits. Delta [2, 1, 1] also needs 6 bits and
delta-of-delta [2, -1, 0] more; on a tie the simpler transform wins, so plain it is. The block is
the header bytes 02 00 02 (e, transform, width), the varints 4B 06 00 00 (g = 75,
zigzag(3) = 6, no patches, no exceptions) and the packed bits 01 00 10 -> 0b01001000 = 0x48:
eight bytes for what costs 24 bytes raw. The tests spell this vector out.

The stream is a header (e, transform, width w, common factor g, base, patch and exception
counts), the residuals packed at w bits, then the patches and exceptions by position gap
(positions [3, 4, 10] are stored as [3, 0, 5]); docs/format.md, "Decimal (tag 2)", gives every
byte. An empty block is the empty byte string.

Decoding reverses the steps: unpack, add patch bits, un-zigzag, add the base, undo the transform,
multiply by g (modulo 2**64), divide by 10**e, then write the exception patterns over their
positions. Every count read from the blob is checked against the bytes that are present before
anything is allocated, and a damaged blob raises `FormatError`.
"""
import numpy as np

from lib.bitstream.packing import bit_lengths, pack_fixed_width, unpack_fixed_width
from lib.bitstream.stream import WORD_BITS
from lib.bitstream.varint import encode_varints, read_varints, zigzag_decode_int, zigzag_encode
from lib.codecs.decimal_digits import (
    E_MAX, PATTERN_BYTES, choose_exponent, common_factor, decimal_ints, fill_exceptions, ints_to_floats,
)
from lib.codecs.limits import MAX_COUNT, check_count
from lib.codecs.transforms import (
    FORWARD, TRANSFORM_NAMES, centred_residuals, choose_transform, integers_from_residuals, position_gaps,
    positions_from_gaps,
)
from lib.errors import FormatError

HEADER_BYTES = 3  # e, transform, width; then four varints
HEADER_VARINTS = 4

_U64 = np.uint64


def _varint_bits(length):
    return 8 * max(1, -(-length // 7))


# PATCH_BITS[w, b]: what a residual of bit length b costs beyond its w packed bits: nothing if it
# fits, otherwise a position gap (about a byte) plus its high b - w bits as a varint.
PATCH_BITS = np.array(
    [[0 if b <= w else 8 + _varint_bits(b - w) for b in range(WORD_BITS + 1)] for w in range(WORD_BITS + 1)],
    dtype=np.int64,
)


def choose_width(residuals):
    """(width, estimated bits) minimising count * w + the patches for residuals wider than w."""
    histogram = np.bincount(bit_lengths(residuals), minlength=WORD_BITS + 1)
    cost = residuals.size * np.arange(WORD_BITS + 1) + PATCH_BITS @ histogram
    width = int(np.argmin(cost))
    return width, int(cost[width])


def plan_integers(ints):
    """(transform, base, width, residuals) of the transform that is cheapest bit-packed on a sample.

    The transform and base come from the sample; the width is then chosen on all residuals.
    """
    transform, base = choose_transform(ints, lambda residuals: choose_width(residuals)[1])
    residuals = centred_residuals(FORWARD[transform](ints), base)
    width, _ = choose_width(residuals)
    return transform, base, width, residuals


def encode_decimal(values):
    """float64 array -> decimal-codec bytes (decode with the count). Lossless for every pattern."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size > MAX_COUNT:
        raise ValueError(f"one blob holds at most {MAX_COUNT} values, got {values.size}")
    if values.size == 0:
        return b""
    exponent = choose_exponent(values)
    ints, fits = decimal_ints(values, exponent)
    factor = common_factor(ints[fits])
    scaled = fill_exceptions(ints // factor, fits)
    transform, base, width, residuals = plan_integers(scaled)

    patches = np.flatnonzero(residuals >> _U64(width)) if width < WORD_BITS else np.zeros(0, np.int64)
    exceptions = np.flatnonzero(~fits)
    header = bytes((exponent, transform, width)) + encode_varints(
        [factor, int(zigzag_encode([base])[0]), patches.size, exceptions.size]
    )
    return b"".join((
        header,
        pack_fixed_width(residuals, width),
        encode_varints(position_gaps(patches)),
        encode_varints(residuals[patches] >> _U64(width)),
        encode_varints(position_gaps(exceptions)),
        values[exceptions].view(_U64).astype("<u8").tobytes(),
    ))


def _read_header(blob):
    if len(blob) < HEADER_BYTES:
        raise FormatError(f"decimal block of {len(blob)} bytes is shorter than its header")
    exponent, transform, width = blob[0], blob[1], blob[2]
    if exponent > E_MAX:
        raise FormatError(f"decimal exponent {exponent} is above {E_MAX}")
    if transform not in TRANSFORM_NAMES:
        raise FormatError(f"unknown integer transform {transform}")
    if width > WORD_BITS:
        raise FormatError(f"bit width {width} is above {WORD_BITS}")
    fields, offset = read_varints(blob, HEADER_VARINTS, HEADER_BYTES)
    factor, zigzag_base, patch_count, exception_count = (int(f) for f in fields)
    if factor == 0:
        raise FormatError("common factor 0 is not allowed")
    base = zigzag_decode_int(zigzag_base)
    return exponent, transform, width, factor, base, patch_count, exception_count, offset


def decode_decimal(blob, count):
    """Decimal-codec bytes -> float64 array of `count` values."""
    check_count(count)
    blob = bytes(blob)
    if count == 0:
        if blob:
            raise FormatError(f"{len(blob)} bytes for an empty block")
        return np.zeros(0, dtype=np.float64)
    exponent, transform, width, factor, base, patch_count, exception_count, offset = _read_header(blob)
    if patch_count > count or exception_count > count:
        raise FormatError(f"{patch_count} patches, {exception_count} exceptions in a block of {count}")
    if width == WORD_BITS and patch_count:
        raise FormatError("a 64-bit wide block cannot have patches")
    packed_bytes = (count * width + 7) // 8
    if offset + packed_bytes > len(blob):
        raise FormatError(f"packed residuals truncated: need {packed_bytes} bytes, have {len(blob) - offset}")
    residuals = unpack_fixed_width(blob[offset:offset + packed_bytes], count, width)
    offset += packed_bytes

    patch_gaps, offset = read_varints(blob, patch_count, offset)
    patch_highs, offset = read_varints(blob, patch_count, offset)
    if width and patch_count and (patch_highs >> _U64(WORD_BITS - width)).any():
        raise FormatError(f"patch does not fit 64 bits above a {width}-bit field")
    residuals[positions_from_gaps(patch_gaps, count, "patch")] |= patch_highs << _U64(width)

    exception_gaps, offset = read_varints(blob, exception_count, offset)
    exception_positions = positions_from_gaps(exception_gaps, count, "exception")
    if len(blob) - offset != exception_count * PATTERN_BYTES:
        raise FormatError(
            f"{len(blob) - offset} bytes left for {exception_count} exception patterns of "
            f"{PATTERN_BYTES} bytes"
        )
    patterns = np.frombuffer(blob, dtype="<u8", offset=offset, count=exception_count).astype(_U64)

    # From here on every step writes over the residuals: the block's one array of `count` values.
    ints = integers_from_residuals(residuals, base, transform).view(_U64)
    ints *= _U64(factor)  # modulo 2**64, like the encoder's inverse
    values = ints_to_floats(ints.view(np.int64), exponent, in_place=True)
    values.view(_U64)[exception_positions] = patterns
    return values


def decimal_stats(values):
    """What the encoder chose for this block, for reports: exponent, factor, transform, sizes."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    blob = encode_decimal(values)
    if not blob:
        return {"values": 0, "bytes": 0}
    exponent, transform, width, factor, base, patches, exceptions, header_end = _read_header(blob)
    return {
        "values": int(values.size),
        "bytes": len(blob),
        "exponent": exponent,
        "factor": factor,
        "transform": TRANSFORM_NAMES[transform],
        "width": width,
        "base": base,
        "patches": patches,
        "exceptions": exceptions,
        "header_bytes": header_end,
    }
