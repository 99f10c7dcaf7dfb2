"""What a damaged stream can make a decoder do: the limits every codec checks before it allocates.

A codec's stream does not store its point count: the caller (a METRICS! block header) does, and a
damaged header could claim any number. So every decoder first calls `check_count`, which refuses
counts beyond MAX_COUNT, and every decompression stops at `max_stream_bytes(count)`, the most any
codec needs for `count` values. Example: 8,192 values may inflate to at most 32 * 8192 + 64 bytes.
"""
import numpy as np

from lib.errors import FormatError

MAX_COUNT = 1 << 26  # points per stream; bounds what a damaged caller-side count can allocate
# No codec in lib/codecs/ needs more than this many bytes per value (decimal at its worst: an 8-byte
# packed residual, an exception pattern and two varint positions), so a decompressor is stopped there.
MAX_BYTES_PER_VALUE = 32
MAX_OVERHEAD_BYTES = 64


def check_count(count):
    """Refuse a count that is not an integer in 0..MAX_COUNT (a bool is not a count)."""
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or not 0 <= count <= MAX_COUNT:
        raise FormatError(f"point count must be an integer in 0..{MAX_COUNT}, got {count!r}")


def max_stream_bytes(count):
    """Upper bound on any plain stream for `count` values; decompression stops there."""
    return MAX_BYTES_PER_VALUE * count + MAX_OVERHEAD_BYTES
