"""Dictionary (tag 9, "dictionary"): few distinct values, each repeated often.

A gauge that takes a few hundred distinct values over thousands of scrapes (a load-balancer's
share 33.3333 / 33.4447 / 33.446 ...) is cheapest as a dictionary: the distinct values once, most
frequent first, then for each point the rank of its value in that list, as a bins stream (the
frequent ones get short codes). Layout: varint U, u8 tag and varint length of the dictionary's
own block (U values, encoded by the fast chooser), the block, bins stream of the U-based ranks.
The choice (lib/codecs/choice.py) imports this module, so it is passed in: `encode_entries(values)
-> (tag, blob)` and `decode_entries(tag, blob, size) -> values`, which refuses tags that cannot hold them.
docs/format.md, "Dictionary (tag 9)".
"""
import numpy as np

from lib.bitstream.varint import encode_varints, read_varints
from lib.codecs.bins import decode_bins, encode_bins
from lib.codecs.limits import check_count
from lib.codecs.transforms import bit_patterns
from lib.errors import FormatError


DICTIONARY_MAX_SHARE = 4  # tried when a sample has at most 1/4 as many distinct patterns as values


def encode_dictionary(values, encode_entries):
    patterns = bit_patterns(values)
    if patterns.size < 2 * DICTIONARY_MAX_SHARE:
        return None
    uniques, inverse, counts = np.unique(patterns, return_inverse=True, return_counts=True)
    order = np.lexsort((uniques, -counts))
    rank_of = np.empty(order.size, dtype=np.uint64)
    rank_of[order] = np.arange(order.size, dtype=np.uint64)
    tag, blob = encode_entries(uniques[order].view(np.float64))
    return b"".join((encode_varints([order.size]), bytes((tag,)), encode_varints([len(blob)]), blob,
                     encode_bins(rank_of[inverse.reshape(-1)])))


def decode_dictionary(blob, count, decode_entries):
    check_count(count)
    blob = bytes(blob)
    (size,), offset = read_varints(blob, 1)
    if count == 0 or not 1 <= size <= count or offset >= len(blob):
        raise FormatError(f"a dictionary of {size} values for {count} points")
    tag = blob[offset]
    (length,), offset = read_varints(blob, 1, offset + 1)
    if length > len(blob) - offset:
        raise FormatError(f"dictionary of {length} bytes runs past the block")
    entries = decode_entries(tag, blob[offset:offset + int(length)], int(size))
    ranks, offset = decode_bins(blob, count, offset + int(length))
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after a dictionary block")
    if count and int(ranks.max()) >= size:
        raise FormatError(f"dictionary rank {int(ranks.max())} but only {size} entries")
    return entries[ranks.view(np.int64)]  # every rank is below `size`: the same numbers as int64
