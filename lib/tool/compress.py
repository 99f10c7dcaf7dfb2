"""`squeeze.py compress`: exported metrics streamed straight into a METRICS! file.

The importers' readers (lib/data/importers) write into a WriterSink, which hands the points of
a few chunks of text at a time to a StreamingWriter (lib/storage/streaming_writer.py): memory
holds those, a bounded buffer per series and the index, never the whole import, so an export
larger than memory compresses. Without the phase-0 dataset file, the points go from text to blocks once.
A Prometheus query_range response is one JSON document and is read whole.
"""
import sys
from dataclasses import dataclass

from lib.data.importers import WriterSink, read_paths
from lib.errors import FormatError
from lib.plumbing.progress import Progress
from lib.storage.streaming_writer import StreamingWriter

WARNINGS_SHOWN = 5  # a file with thousands of disordered series names the first few


@dataclass
class Compressed:
    path: str
    points: int
    series: int
    bytes: int
    files: list

    def summary_line(self):
        return (f"{self.points:,} points in {self.series:,} series: {self.bytes:,} bytes, "
                f"{self.bytes / self.points:.3f} bytes/point ({self.path})")


def compress(inputs, output, fmt=None, block_points=None, memory_budget=None):
    """Import `inputs` (files or folders) into the METRICS! file `output`; a Compressed summary.
    An input with no point at all, or any refused line, leaves no file behind."""
    options = {name: value for name, value in (("block_points", block_points), ("memory_budget", memory_budget))
               if value is not None}
    progress = Progress("compressing", None)
    with StreamingWriter(output, progress=progress, **options) as writer:
        sink = WriterSink(writer)
        result = read_paths(inputs, sink, fmt)
        if sink.points == 0:
            raise FormatError(f"{', '.join(result.files)}: no data points")
    progress.finish()
    print_warnings(result.warnings + sink.order_warnings())
    return Compressed(str(output), sink.points, len(writer.series), writer.size, result.files)


def print_warnings(warnings):
    for warning in warnings[:WARNINGS_SHOWN]:
        print(f"warning: {warning}", file=sys.stderr)
    if len(warnings) > WARNINGS_SHOWN:
        print(f"warning: ... and {len(warnings) - WARNINGS_SHOWN} more like these", file=sys.stderr)
