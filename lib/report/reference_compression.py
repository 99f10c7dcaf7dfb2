"""Reference rows for the comparison table: the NDJSON file squeezed by general-purpose compressors.

A learner's first question is "why not just gzip it?". These rows answer it with stdlib gzip
(level 6, the `gzip` command's default) and lzma (preset 6, the `xz` default). The compressed bytes
are decompressed again and compared with the input, so these rows are verified like the phases.
lzma and zlib release the GIL while they work, so main.py runs them in a background thread while
the next phases run.

Whole file or sample. xz squeezes NDJSON at a few MB per second on one core: the medium dataset's
217 MB file takes about a minute, the big one's 2.2 GB about eight, longer than all the phases
together. So a file larger than SAMPLE_BYTES is estimated: the compressor squeezes SAMPLE_SLICES
slices of whole lines, one from the middle of each equal part of the file, as one stream, and the
row scales the compressed size by file size / sample size. Each slice is larger than xz's 8 MB
dictionary, so the sample sees the same repetition the whole file offers. Such a row says
"estimated" in its name, carries `sample_bytes`, and its file is the compressed sample
(`.sample.xz`); `exact=True` (`main.py --exact-reference`) compresses the whole file instead.
"""
import gzip
import hashlib
import lzma
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from lib.errors import RoundTripError
from lib.plumbing.atomic import atomic_write
from lib.report.table import PhaseResult, human_bytes

READ_CHUNK = 1 << 20
SAMPLE_SLICES = 2
SAMPLE_BYTES = 20_000_000  # two 10 MB slices, each larger than xz -6's 8 MiB dictionary


@dataclass(frozen=True)
class Compressor:
    label: str
    suffix: str
    make: object  # () -> an object with compress(bytes) and flush()
    open: object  # (path, "rb") -> a file object that decompresses


COMPRESSORS = {
    "gzip": Compressor("gzip -6", ".gz", lambda: zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS),
                       gzip.open),  # 16+: gzip header and trailer
    "lzma": Compressor("xz -6", ".xz", lambda: lzma.LZMACompressor(preset=6), lzma.open),
}


@dataclass
class ReferenceResult(PhaseResult):
    """A reference row; `sample_bytes` is set when `bytes` is estimated from a sample of that size."""
    sample_bytes: int = None

    @property
    def estimated(self):
        return self.sample_bytes is not None


class ReferenceJob:
    """One compressor over one file, run in a background thread; `done_bytes` shows how far it got."""

    def __init__(self, source, method, points, exact=False):
        self.source = Path(source)
        self.method = method
        self.points = points
        self.file_bytes = self.source.stat().st_size
        self.sampled = not exact and self.file_bytes > SAMPLE_BYTES
        self.total_bytes = SAMPLE_BYTES if self.sampled else self.file_bytes
        self.done_bytes = 0

    def run(self):
        compressor = COMPRESSORS[self.method]
        whole_file = self.source.with_name(self.source.name + compressor.suffix)
        sample_file = self.source.with_name(self.source.name + ".sample" + compressor.suffix)
        target, stale = (sample_file, whole_file) if self.sampled else (whole_file, sample_file)
        start = time.perf_counter()
        pieces = sample_slices(self.source, SAMPLE_BYTES, SAMPLE_SLICES) if self.sampled else read_in_chunks(self.source)
        input_bytes, digest = compress_to(target, compressor.make(), pieces, self.count_done)
        if self.sampled and not input_bytes:  # no whole line in the sample (a file of one huge line)
            return ReferenceJob(self.source, self.method, self.points, exact=True).run()
        verified = sha256_of(decompressed_chunks(target, compressor)) == digest
        if not verified:
            raise RoundTripError(f"{target}: decompressed bytes differ from {self.source}")
        stale.unlink(missing_ok=True)  # left by an earlier run on other data
        seconds = time.perf_counter() - start
        name = f"NDJSON + {compressor.label}"
        size = target.stat().st_size
        if not self.sampled:
            return ReferenceResult("ref", name, target, size, self.points, seconds, verified)
        estimate = round(size * self.file_bytes / input_bytes)
        return ReferenceResult("ref", name + " (estimated)", target, estimate, self.points, seconds, verified,
                               sample_bytes=input_bytes)

    def count_done(self, amount):
        self.done_bytes += amount


def compress_reference(source, method, points, exact=False):
    """Compress `source` (or a sample of it) with `method`, verify by decompressing, return a row."""
    return ReferenceJob(source, method, points, exact).run()


def read_in_chunks(path):
    with open(path, "rb") as f:
        while chunk := f.read(READ_CHUNK):
            yield chunk


def sample_slices(path, total_bytes, slices):
    """Yield `slices` runs of whole lines, about total_bytes in all, one centred in each equal part."""
    size = os.path.getsize(path)
    slice_bytes = total_bytes // slices
    with open(path, "rb") as f:
        for index in range(slices):
            start = max(0, (2 * index + 1) * size // (2 * slices) - slice_bytes // 2)
            if start:
                f.seek(start - 1)
                f.readline()  # up to the first line that starts at or after `start`
            data = f.read(slice_bytes)
            yield data[:data.rfind(b"\n") + 1]


def compress_to(target, compressor, pieces, on_progress):
    """Write the compressed stream of `pieces` to target; returns (input bytes, SHA-256 of the input)."""
    original = hashlib.sha256()
    input_bytes = 0
    with atomic_write(target) as dst:
        for piece in pieces:
            for offset in range(0, len(piece), READ_CHUNK):
                chunk = piece[offset:offset + READ_CHUNK]
                original.update(chunk)
                dst.write(compressor.compress(chunk))
                input_bytes += len(chunk)
                on_progress(len(chunk))
        dst.write(compressor.flush())
    return input_bytes, original.digest()


def decompressed_chunks(path, compressor):
    with compressor.open(path, "rb") as f:
        while chunk := f.read(READ_CHUNK):
            yield chunk


def sha256_of(chunks):
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.digest()


def estimate_note(results):
    """A line for under the table saying how the estimated rows were made, or None if none was."""
    sample_bytes = [r.sample_bytes for r in results if isinstance(r, ReferenceResult) and r.estimated]
    if not sample_bytes:
        return None
    return (f"(estimated): the compressor squeezed a {human_bytes(sample_bytes[0])} sample of the NDJSON file "
            f"({SAMPLE_SLICES} slices of whole lines) and the size is scaled to the whole file; "
            "main.py --exact-reference compresses all of it")


def add_estimate_fields(rows, results):
    """Give every table row `estimated` and `sample_bytes`, so `--json` readers can tell."""
    for row, result in zip(rows, results):
        row["sample_bytes"] = getattr(result, "sample_bytes", None)
        row["estimated"] = row["sample_bytes"] is not None
