"""Shared timestamps: a block whose timestamps are those of an earlier block of the same file.

One Prometheus scrape loop stamps every series of its targets with the same scrape times, so
10,000 pods' series of 120 points each hold 10,000 copies of one block of timestamps. Each copy
costs a timestamp stream of a few dozen bytes however well it compresses; a reference to the first
copy costs one to three. The stream of this codec is that reference: the number of the earlier
block, its position among the blocks of the data section in file order, counting from 0, as a
varint. Example: b"\\x05" names the sixth block of the file.

The trade-off: such a block no longer decodes on its own. A codec sees one block, so decoding the
stream gives a `SharedReference` (the block number and the count), and the file reader
(lib/storage/metrics_file.py) resolves it, refusing a reference to the block itself, to a later
block, past the last block, to a block of another point count, or to a block whose timestamps are
themselves shared (so a random-access read reads at most one block more). The writer
(lib/storage/streaming_writer.py) refers only to blocks that store their own timestamps, and only
where the reference is smaller. Layout: docs/format.md, "Shared timestamps".
"""
from collections import namedtuple

from lib.bitstream.varint import encode_varints, read_varint_list
from lib.codecs.limits import check_count
from lib.errors import FormatError

SharedReference = namedtuple("SharedReference", "block count")


def encode_shared(block):
    """The stream naming block number `block` of the file: 5 -> b"\\x05", 300 -> b"\\xac\\x02"."""
    return encode_varints([block])


def decode_shared(blob, count):
    """A shared-timestamps stream -> SharedReference(block number, count), for the file reader to resolve."""
    check_count(count)
    if count == 0:
        raise FormatError("a shared-timestamps block holds at least one timestamp")
    blob = bytes(blob)
    (block,), offset = read_varint_list(blob, 1, 0)
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after a shared-timestamps reference")
    return SharedReference(block, count)
