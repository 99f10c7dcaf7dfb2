"""Where Gorilla's bits go: the size of each code class, for phase 3's report.

For [12.0, 12.0, 24.0, 15.0, 12.0] the value stream spends 64 bits on the first value, 1 bit on the
repeat ('0'), 14 + 17 bits on two new windows ('11' + 5 + 6 header bits + 1 and 4 meaningful
bits) and 6 on a reused one ('10' + 4 bits): 102 bits, the length of `encode_values`' stream
before padding (the tests check the two agree). The counts come from the same plans the fast
encoders use (lib/codecs/gorilla/fast.py), so they describe exactly the bytes written.
"""
import numpy as np

from lib.bitstream.stream import WORD_BITS
from lib.codecs.gorilla.fast import (
    DOD_PAYLOAD_BITS, DOD_PREFIX_BITS, XOR_CONTROL_BITS, XOR_NEW_HEADER_BITS, XOR_SAME_BITS, timestamp_plan,
    value_plan,
)
from lib.codecs.gorilla.reference import (
    TIMESTAMP_FIRST_BITS, UNIT_LENGTH_BITS, VALUE_FIRST_BITS, as_timestamps, as_value_bits,
)

DOD_CLASS_NAMES = ("zero", "7-bit", "9-bit", "12-bit", "64-bit escape")  # by class, as DOD_PAYLOAD_BITS
XOR_CLASS_NAMES = ("same", "reuse window", "new window")


def _class_table(names, counts, bits):
    return {name: {"count": int(c), "bits": int(b)} for name, c, b in zip(names, counts, bits)}


def timestamp_encoding_stats(timestamps):
    """How `encode_timestamps` spends its bits on this series.

    Returns a dict: points, unit (the common divisor of the deltas), header_bits (first timestamp
    and unit), total_bits (before padding to bytes), bits_per_point, dod_zero_share (share of
    delta-of-deltas that are 0, over the count - 1 of them) and classes: for each code class in
    DOD_CLASS_NAMES ("zero", "7-bit", "9-bit", "12-bit", "64-bit escape") its count and bits.
    """
    ts = as_timestamps(timestamps)
    points = int(ts.size)
    counts = np.zeros(len(DOD_PAYLOAD_BITS), dtype=np.int64)
    unit = 1
    header_bits = TIMESTAMP_FIRST_BITS if points else 0
    if points >= 2:
        unit, _dod, classes = timestamp_plan(ts)
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
    bits = as_value_bits(values)
    points = int(bits.size)
    counts = [max(points - 1, 0), 0, 0]
    class_bits = [counts[0] * XOR_SAME_BITS, 0, 0]
    mean_meaningful = 0.0
    if points >= 2:
        nonzero, _index, opens, _leading, _trailing, window_leading, window_trailing = value_plan(bits)
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
