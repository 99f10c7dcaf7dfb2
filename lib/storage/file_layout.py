"""Where the sections of a METRICS! file lie: header, data, index and footer, in versions 2 to 4.

Version 2 put the index in front of the blocks, so a writer had to hold every block until it knew
the index. Version 3 puts it behind them, as Parquet puts its footer: a writer streams each block
to disk as it is cut and keeps only the index entries, then appends the index and a fixed-size
footer saying where the index starts. A reader reads the 16-byte header and the 24-byte footer,
then the index; the blocks tile the bytes between header and index exactly.

    version 3, 4:  header (16) | blocks ... | index section | footer (24): index offset, index length,
                                                              CRC32 of header + index section, magic
    version 2:  header (32: index length, data offset, data length) | index section | CRC32 | blocks

The footer ends with the magic again, so a file cut short (a crash before the footer, a partial
copy) is refused at once; a reader opens version 2, 3 and 4 files (4 has the layout of 3 and
assigns new codec tags) and refuses every other version before reading anything past the header. The index section is the index's inflated length (u32)
followed by the index deflated, in both versions. docs/format.md is the byte-for-byte reference.
"""
import struct
import zlib
from dataclasses import dataclass

from lib.errors import FormatError
from lib.plumbing.bounded_compression import deflate, inflate

MAGIC = b"METRICS!"
FORMAT_VERSION = 4  # what writers write
OLDEST_READ_VERSION = 2
TRAILING_INDEX_VERSION = 3  # the first version with the index behind the blocks; later ones keep it
READ_VERSIONS = f"versions {OLDEST_READ_VERSION} to {FORMAT_VERSION}"
MAX_DEFLATE_RATIO = 1032  # DEFLATE never expands data more than this (258-byte matches in 2 bits)

HEADER = struct.Struct("<8sHHI")
FOOTER = struct.Struct("<QII8s")
HEADER_V2 = struct.Struct("<8sHHIQQ")
VERSION = struct.Struct("<H")  # at offset 8, after the magic, in every version
CRC = struct.Struct("<I")
INFLATED_LENGTH = struct.Struct("<I")


@dataclass
class Layout:
    """Where a file's sections are: data from data_offset (data_length bytes), index section at
    index_offset (index_length bytes). `checksum` is the CRC32 of header and index section, which
    names this version of the file (its blocks' offsets, lengths and times are all in the index).
    `overhead` is every byte that is not a block."""

    version: int
    block_points: int
    data_offset: int
    data_length: int
    index_offset: int
    index_length: int
    file_size: int
    checksum: int

    @property
    def overhead(self):
        return self.file_size - self.data_length


def pack_header(block_points):
    return HEADER.pack(MAGIC, FORMAT_VERSION, block_points, 0)


def pack_footer(header, index_offset, index_section):
    return FOOTER.pack(index_offset, len(index_section), zlib.crc32(index_section, zlib.crc32(header)), MAGIC)


def read_layout(read_at, file_size, path):
    """(Layout, index section bytes) of a file, every offset, length and checksum checked.
    `read_at(offset, length)` reads bytes of the file."""
    if file_size < len(MAGIC) + VERSION.size:
        raise FormatError(f"{path}: {file_size} bytes is too short for a METRICS! file")
    start = read_at(0, len(MAGIC) + VERSION.size)  # the rest of the header is read once its size is known
    magic, (version,) = start[:len(MAGIC)], VERSION.unpack_from(start, len(MAGIC))
    if magic != MAGIC:
        raise FormatError(f"{path}: not a METRICS! file (magic bytes {magic!r})")
    if 0 < version < OLDEST_READ_VERSION:
        raise FormatError(f"{path}: written in an older format (version {version}) that this reader no longer "
                          f"reads (it reads {READ_VERSIONS}); write it again "
                          f"with `python 04_custom_binary_format.py`")
    if TRAILING_INDEX_VERSION <= version <= FORMAT_VERSION:
        return _read_layout_trailing_index(start, read_at, file_size, path, version)
    if version == OLDEST_READ_VERSION:
        return _read_layout_v2(start, read_at, file_size, path)
    raise FormatError(f"{path}: format version {version} is not supported (this reader knows {READ_VERSIONS})")


def _read_layout_trailing_index(start, read_at, file_size, path, version):
    if file_size < HEADER.size + FOOTER.size:
        raise FormatError(f"{path}: {file_size} bytes is too short for a METRICS! file")
    header = start + read_at(len(start), HEADER.size - len(start))
    _, _, block_points, reserved = HEADER.unpack(header)
    if reserved != 0:
        raise FormatError(f"{path}: reserved header field is {reserved}, not 0")
    footer_at = file_size - FOOTER.size
    index_offset, index_length, stored_crc, magic = FOOTER.unpack(read_at(footer_at, FOOTER.size))
    if magic != MAGIC:
        raise FormatError(f"{path}: no METRICS! footer at the end: the file is truncated or damaged")
    if index_offset < HEADER.size or index_offset + index_length != footer_at:
        raise FormatError(f"{path}: footer says index {index_length} bytes at {index_offset}, but the file has "
                          f"{file_size} bytes")
    index = read_at(index_offset, index_length)
    if zlib.crc32(index, zlib.crc32(header)) != stored_crc:
        raise FormatError(f"{path}: header/index checksum mismatch, the index is damaged")
    layout = Layout(version, block_points, HEADER.size, index_offset - HEADER.size, index_offset,
                    index_length, file_size, stored_crc)
    return layout, index


def _read_layout_v2(start, read_at, file_size, path):
    if file_size < HEADER_V2.size + CRC.size:
        raise FormatError(f"{path}: {file_size} bytes is too short for a METRICS! file")
    header = start + read_at(len(start), HEADER_V2.size - len(start))
    _, version, block_points, index_length, data_offset, data_length = HEADER_V2.unpack(header)
    if data_offset != HEADER_V2.size + index_length + CRC.size or data_offset + data_length != file_size:
        raise FormatError(f"{path}: header says index {index_length} bytes and data {data_length} bytes at "
                          f"{data_offset}, but the file has {file_size} bytes")
    index = read_at(HEADER_V2.size, index_length)
    (stored_crc,) = CRC.unpack(read_at(HEADER_V2.size + index_length, CRC.size))
    if zlib.crc32(index, zlib.crc32(header)) != stored_crc:
        raise FormatError(f"{path}: header/index checksum mismatch, the index is damaged")
    layout = Layout(version, block_points, data_offset, data_length, HEADER_V2.size, index_length, file_size,
                    stored_crc)
    return layout, index


def pack_index_section(index):
    """The stored form of the index: its inflated length, then the index deflated."""
    return INFLATED_LENGTH.pack(len(index)) + deflate(index)


def unpack_index_section(section, path):
    """Inflate a stored index; its declared length is checked before any memory is committed."""
    if len(section) < INFLATED_LENGTH.size:
        raise FormatError(f"{path}: index section of {len(section)} bytes is too short")
    (length,) = INFLATED_LENGTH.unpack_from(section)
    if length > MAX_DEFLATE_RATIO * len(section):
        raise FormatError(f"{path}: index claims {length} bytes, more than {len(section)} deflated bytes can hold")
    try:
        return inflate(section[INFLATED_LENGTH.size:], length, exact=True)
    except FormatError as exc:
        raise FormatError(f"{path}: index: {exc}") from None
