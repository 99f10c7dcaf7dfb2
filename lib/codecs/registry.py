"""The registry: one entry per codec tag of the METRICS! file, for values and for timestamps.

A block names its two codecs with one-byte tags (timestamps, values). The low nibble is the codec,
the high nibble an optional stage: DEFLATE or LZMA over the codec's stream (lib/codecs/stages.py).
Example: 0x12 is DECIMAL | ZLIB, "a decimal stream, deflated". The numbers are part of the file
format: docs/format.md lists them, tests/test_format_doc.py checks that list against VALUE_CODECS,
TIMESTAMP_CODECS and lib.codecs.stages.STAGES both ways, and golden files hold a stream of each.
Never reuse a number.

Each entry says what the file writer, the reader, the format check, the golden files and every
report need: its tag, its name, a one-line gloss, its encoder and its decoder. Decoders take the
bytes and the count from the caller and raise `FormatError` on unknown tags, damaged streams and
decompressed sizes beyond what `count` values could ever need. One decoder returns no timestamps:
TIMESTAMP_SHARED's stream names an earlier block of the file, and decodes to a SharedReference that
the file reader resolves (lib/codecs/shared_timestamps.py); its encoder takes that block's number.
Which codec writes a block is chosen elsewhere (lib/codecs/choice.py).
"""
from collections import namedtuple

import numpy as np

from lib.codecs.bins import BINS
from lib.codecs.bins.batched import finish_results, finished
from lib.codecs.constant import decode_constant, encode_constant
from lib.codecs.decimal import decode_decimal, encode_decimal
from lib.codecs.decimal_bins import (
    DecimalBinsParts, decimal_bins_decoder, decode_decimal_bins, encode_decimal_bins, finish_decimal_bins,
)
from lib.codecs.decimal_planes import decode_decimal_planes, encode_decimal_planes
from lib.codecs.dictionary import decode_dictionary, encode_dictionary
from lib.codecs.float32_bins import decode_float32_bins, encode_float32_bins, float32_bins_decoder
from lib.codecs.gorilla import decode_timestamps, decode_values, encode_timestamps, encode_values
from lib.codecs.limits import check_count, max_stream_bytes
from lib.codecs.multiple_bins import decode_multiple_bins, encode_multiple_bins, multiple_bins_decoder
from lib.codecs.ordered import decode_ordered, decode_ordered_bins, encode_ordered, encode_ordered_bins
from lib.codecs.runs import decode_runs, encode_runs
from lib.codecs.shared_timestamps import decode_shared, encode_shared
from lib.codecs.stages import STAGES
from lib.codecs.timestamp_units import (
    DeltaParts, GridParts, decode_timestamp_units, encode_timestamp_units, finish_deltas, finish_grids,
    timestamp_units_decoder,
)
from lib.errors import FormatError

Codec = namedtuple("Codec", "tag name gloss encode decode")
CODEC_MASK, STAGE_MASK = 0x0F, 0xF0  # the codec in a tag's low nibble, its stage in the high one

GORILLA, DECIMAL, CONSTANT, RUNS, ORDERED, DECIMAL_PLANES = 1, 2, 3, 4, 5, 6
ORDERED_BINS, DECIMAL_BINS, DICTIONARY, MULTIPLE_BINS, FLOAT32_BINS = 7, 8, 9, 10, 11
TIMESTAMP_GORILLA, TIMESTAMP_UNITS, TIMESTAMP_BINS, TIMESTAMP_SHARED = 1, 2, 3, 4


def _encode_dictionary(values):
    # The dictionary's distinct values are stored by the fast choice, which imports this registry.
    from lib.codecs.choice import smallest_without_dictionary
    return encode_dictionary(values, smallest_without_dictionary)


def _decode_dictionary(blob, count):
    return decode_dictionary(blob, count, decode_dictionary_entries)


# What a dictionary's values may be stored with.
DICTIONARY_ENTRY_CODECS = (CONSTANT, RUNS, DECIMAL_BINS, ORDERED_BINS, MULTIPLE_BINS, FLOAT32_BINS)


def decode_dictionary_entries(tag, blob, size):
    if tag not in DICTIONARY_ENTRY_CODECS:
        raise FormatError(f"dictionary entries stored with codec tag {tag}, which cannot hold them")
    return VALUE_CODECS[tag].decode(blob, size)


VALUE_CODECS = {codec.tag: codec for codec in (
    Codec(GORILLA, "gorilla", "Gorilla XOR of each float with the one before (phase 3's encoding)",
          encode_values, decode_values),
    Codec(DECIMAL, "decimal", "digits of a decimal (value x 10**e as an integer), bit-packed at one width",
          encode_decimal, decode_decimal),
    Codec(CONSTANT, "constant", "every value the same 64-bit pattern, stored once", encode_constant, decode_constant),
    Codec(RUNS, "runs", "runs of repeated patterns: run lengths and one pattern per run", encode_runs, decode_runs),
    Codec(ORDERED, "ordered", "float bits as integers that sort like the floats, deltas in byte planes",
          encode_ordered, decode_ordered),
    Codec(DECIMAL_PLANES, "decimal-planes", "decimal digits in byte planes for a general-purpose compressor",
          encode_decimal_planes, decode_decimal_planes),
    Codec(ORDERED_BINS, "ordered-bins", "float bits as integers that sort like the floats, deltas entropy-coded as bins",
          encode_ordered_bins, decode_ordered_bins),
    Codec(DECIMAL_BINS, "decimal-bins", "decimal digits (plus a few ULP steps where a float is next to a decimal), "
          "delta-coded, entropy-coded as bins", encode_decimal_bins, decode_decimal_bins),
    Codec(DICTIONARY, "dictionary", "the few distinct values once, then each point's value rank entropy-coded as bins",
          _encode_dictionary, _decode_dictionary),
    Codec(MULTIPLE_BINS, "multiple-bins", "multiples of a step found in the values (k / d or k * b, maybe as float32), "
          "plus a few float steps where the arithmetic misses, entropy-coded as bins",
          encode_multiple_bins, decode_multiple_bins),
    Codec(FLOAT32_BINS, "float32-bins", "float32 readings widened to float64: the float32 bits as integers that sort "
          "like the floats, plus a few float steps where a value is not quite a float32, as bins",
          encode_float32_bins, decode_float32_bins),
)}

TIMESTAMP_CODECS = {codec.tag: codec for codec in (
    Codec(TIMESTAMP_GORILLA, "gorilla", "Gorilla delta-of-delta codes of the timestamps in their common unit",
          encode_timestamps, decode_timestamps),
    Codec(TIMESTAMP_UNITS, "units", "timestamps in their common unit on a grid of the usual interval: grid steps and "
          "jitter, as byte planes", encode_timestamp_units, decode_timestamp_units),
    Codec(TIMESTAMP_BINS, "units-bins", "timestamps in their common unit: grid steps and jitter on a grid of the "
          "usual interval, or deltas (above the smallest, around the median, or of deltas), entropy-coded as bins",
          lambda timestamps, mode: encode_timestamp_units(timestamps, mode, coder=BINS),
          lambda blob, count: decode_timestamp_units(blob, count, BINS)),
    Codec(TIMESTAMP_SHARED, "shared", "the timestamps of an earlier block of the file, named by its number "
          "(a varint); the file reader resolves it", encode_shared, decode_shared),
)}


def codec_and_stage(tag, registry, what):
    """(codec, stage or None) named by a tag byte of `registry`; FormatError for any other tag."""
    valid = isinstance(tag, (int, np.integer)) and not isinstance(tag, bool) and 0 <= tag <= 0xFF
    codec = registry.get(tag & CODEC_MASK) if valid else None
    stage = STAGES.get(tag & STAGE_MASK) if valid else None
    if codec is None or (tag & STAGE_MASK and stage is None):
        raise FormatError(f"unknown {what} codec tag {tag!r}")
    return codec, stage


def decode_tagged(tag, blob, count, registry, what):
    """The codec (and stage) of `tag` in `registry` decodes `count` points from `blob`."""
    codec, stage = codec_and_stage(tag, registry, what)
    check_count(count)
    blob = bytes(blob)
    if stage is not None:
        blob = stage.decompress(blob, max_stream_bytes(count))
    return codec.decode(blob, count)


def decode_values_tagged(tag, blob, count):
    """The value codec (and stage) named by `tag` decodes `count` values."""
    return decode_tagged(tag, blob, count, VALUE_CODECS, "value")


def decode_timestamps_tagged(tag, blob, count):
    """The timestamp codec (and stage) named by `tag` decodes `count` timestamps."""
    return decode_tagged(tag, blob, count, TIMESTAMP_CODECS, "timestamp")


def name_of(tag, registry, what):
    """The codec's name, then the stage's if any: 0x12 -> 'decimal+zlib'."""
    codec, stage = codec_and_stage(tag, registry, what)
    return codec.name if stage is None else f"{codec.name}+{stage.name}"


def tag_name(tag):
    """1 -> 'gorilla', 0x12 -> 'decimal+zlib'."""
    return name_of(tag, VALUE_CODECS, "value")


def timestamp_tag_name(tag):
    """1 -> 'gorilla', 0x11 -> 'gorilla+zlib', 2 -> 'units'."""
    return name_of(tag, TIMESTAMP_CODECS, "timestamp")


def gloss(name):
    """'decimal+zlib' -> the decimal codec's line, then the stage's."""
    codec_name, _, stage_name = name.partition("+")
    codec = next(c for registry in (VALUE_CODECS, TIMESTAMP_CODECS) for c in registry.values() if c.name == codec_name)
    stage = next((s for s in STAGES.values() if s.name == stage_name), None)
    return codec.gloss + (f", {stage.gloss}" if stage else "")


# Many blocks at once (a whole-file read): lib/codecs/bins/batched.py drives these decoders.


BATCHED_VALUE_DECODERS = {DECIMAL_BINS: decimal_bins_decoder, MULTIPLE_BINS: multiple_bins_decoder,
                          FLOAT32_BINS: float32_bins_decoder}


def batched_value_decoder(tag, blob, count):
    """A decoder of one block's values for lib.codecs.bins.batched.drive: the blocks of the codecs in
    BATCHED_VALUE_DECODERS have their bins streams decoded with other blocks' (decimal-bins blocks
    then finish in `finish_batched_values`); other codecs decode on their own, at once."""
    if tag in BATCHED_VALUE_DECODERS:
        return BATCHED_VALUE_DECODERS[tag](blob, count)
    return finished(decode_values_tagged(tag, blob, count))


def finish_batched_values(results):
    """The values of every block from what its `batched_value_decoder` returned (in place)."""
    return finish_results(results, DecimalBinsParts, finish_decimal_bins)


def batched_timestamp_decoder(tag, blob, count):
    """A decoder of one block's timestamps for lib.codecs.bins.batched.drive: TIMESTAMP_BINS blocks
    have their bins streams decoded with other blocks' (grid and delta blocks finish in
    `finish_batched_timestamps`); other codecs decode on their own, at once."""
    if tag == TIMESTAMP_BINS:
        check_count(count)
        return timestamp_units_decoder(blob, count)
    return finished(decode_timestamps_tagged(tag, blob, count))


def finish_batched_timestamps(results):
    """The timestamps of every block from what its `batched_timestamp_decoder` returned (in place)."""
    finish_results(results, GridParts, finish_grids)
    return finish_results(results, DeltaParts, finish_deltas)
