"""Runs (tag 4, "runs"): runs of repeated 64-bit patterns, a length and a pattern per run.

A gauge that holds still for minutes at a time ([a, a, a, b] -> 2 runs: lengths [3, 1], patterns
[a, b]). Not written when there are more runs than half the values: then runs can only lose.
Layout: varint R, R varint run lengths, R 8-byte patterns; docs/format.md, "Runs (tag 4)".
"""
import numpy as np

from lib.bitstream.varint import encode_varints, read_varints
from lib.codecs.decimal_digits import PATTERN_BYTES
from lib.codecs.limits import check_count
from lib.codecs.transforms import bit_patterns, run_length_decode, run_length_encode
from lib.errors import FormatError


def encode_runs(values):
    """Runs of equal bit patterns: [a, a, a, b] -> run count 2, lengths [3, 1], patterns [a, b].

    None when there are more runs than half the values: then runs can only lose.
    """
    patterns = bit_patterns(values)
    run_patterns, run_lengths = run_length_encode(patterns)
    if patterns.size == 0 or 2 * run_patterns.size > patterns.size:
        return None
    return (encode_varints([run_patterns.size]) + encode_varints(run_lengths)
            + run_patterns.astype("<u8").tobytes())


def decode_runs(blob, count):
    check_count(count)
    blob = bytes(blob)
    (run_count,), offset = read_varints(blob, 1)
    if run_count > count:
        raise FormatError(f"{run_count} runs cannot make {count} values")
    run_lengths, offset = read_varints(blob, int(run_count), offset)
    if len(blob) - offset != int(run_count) * PATTERN_BYTES:
        raise FormatError(f"{len(blob) - offset} bytes left for {run_count} run patterns")
    if run_lengths.size and run_lengths.max() > count:
        raise FormatError(f"a run of {int(run_lengths.max())} values in a block of {count}")
    run_patterns = np.frombuffer(blob, dtype="<u8", offset=offset).astype(np.uint64)
    values = run_length_decode(run_patterns, run_lengths.astype(np.int64), expected_count=count)
    return values.view(np.float64)
