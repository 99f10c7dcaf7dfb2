"""Reference rows for the comparison table: the NDJSON file squeezed by general-purpose compressors.

A learner's first question is "why not just gzip it?". These rows answer it with stdlib gzip
(level 6, the `gzip` command's default) and lzma (preset 6, the `xz` default). Each compressed file
is written beside the NDJSON file, decompressed again and compared by SHA-256, so these rows are
verified like the phases. lzma releases the GIL while it works, so main.py runs these in a
background thread while the next phases run.
"""
import gzip
import hashlib
import lzma
import time
import zlib
from pathlib import Path

from lib.atomic import atomic_write
from lib.errors import RoundTripError
from lib.report import PhaseResult

READ_CHUNK = 1 << 20
COMPRESSORS = {
    "gzip": (".gz", lambda: gzip_compressor(6), gzip.open),
    "lzma": (".xz", lambda: lzma.LZMACompressor(preset=6), lzma.open),
}


def gzip_compressor(level):
    return zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip header and trailer


def compress_reference(source, method, points):
    """Compress `source` with `method`, verify by decompressing, and return a table row."""
    suffix, make_compressor, open_compressed = COMPRESSORS[method]
    source = Path(source)
    target = source.with_name(source.name + suffix)
    start = time.perf_counter()
    original = hashlib.sha256()
    compressor = make_compressor()
    with open(source, "rb") as src, atomic_write(target) as dst:
        while chunk := src.read(READ_CHUNK):
            original.update(chunk)
            dst.write(compressor.compress(chunk))
        dst.write(compressor.flush())
    restored = hashlib.sha256()
    with open_compressed(target, "rb") as f:
        while chunk := f.read(READ_CHUNK):
            restored.update(chunk)
    if restored.digest() != original.digest():
        raise RoundTripError(f"{target}: decompressed bytes differ from {source}")
    seconds = time.perf_counter() - start
    label = "gzip -6" if method == "gzip" else "xz -6"
    return PhaseResult("ref", f"NDJSON + {label}", target, target.stat().st_size, points, seconds, True)
