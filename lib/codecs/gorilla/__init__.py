"""Gorilla compression of timestamps and float values (Pelkonen et al., VLDB 2015).

Timestamps become delta-of-delta codes ('0' for a scrape on time), values the XOR with the previous
value, of which only the meaningful middle bits are kept ('0' for a repeat). One file a job:

    reference.py   the streams as the paper describes them, one point at a time, with the prefixes
                   as literals, the stream layouts, a worked example and every choice where the paper
                   leaves room; the readable definition
    fast.py        the same bytes with numpy, for whole arrays; what the project runs
    stats.py       where the bits go, per code class, for phase 3's report

The public API, all of it importable from here (`from lib.codecs import gorilla`):
`encode_timestamps(int64 array) -> bytes`, `decode_timestamps(bytes, count) -> int64 array`,
`encode_values(float64 array) -> bytes`, `decode_values(bytes, count) -> float64 array` (the fast
path), their `*_reference` twins, `timestamp_encoding_stats` and `value_encoding_stats`. The point
count is stored by the caller; decoders raise `FormatError` on damaged input.
"""
from lib.codecs.gorilla.fast import decode_timestamps, decode_values, encode_timestamps, encode_values
from lib.codecs.gorilla.reference import (
    LEADING_ZEROS_BITS, MAX_LEADING_ZEROS, MEANINGFUL_BITS_BITS, VALUE_FIRST_BITS,
    decode_timestamps_reference, decode_values_reference, encode_timestamps_reference,
    encode_values_reference,
)
from lib.codecs.gorilla.stats import timestamp_encoding_stats, value_encoding_stats

__all__ = [
    "encode_timestamps", "decode_timestamps", "encode_values", "decode_values",
    "encode_timestamps_reference", "decode_timestamps_reference",
    "encode_values_reference", "decode_values_reference",
    "timestamp_encoding_stats", "value_encoding_stats",
    "LEADING_ZEROS_BITS", "MAX_LEADING_ZEROS", "MEANINGFUL_BITS_BITS", "VALUE_FIRST_BITS",
]
