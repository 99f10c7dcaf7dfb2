"""Prometheus: the dataset as OpenMetrics text, turned into TSDB blocks by promtool, read back with
`promtool tsdb dump`.

A Prometheus block is a folder holding one time range of every series: `chunks/` (each series' samples
in chunks of about 120, timestamps as delta-of-delta, values as Gorilla XOR), an `index` (the label
names and values, the postings list of each, where every series' chunks are), `meta.json` and an
empty `tombstones` file. All four are what Prometheus reads to answer a query, and all four are
counted; a block needs no write-ahead log once written.

`promtool tsdb create-blocks-from openmetrics` is Prometheus' own way to load old data (backfill).
Its hidden `--max-block-duration` flag is set to the longest range promtool makes, 2h * 3**9 = 39,366
hours (about 4.5 years), so a dataset goes into one block unless it crosses a multiple of that range
since 1970. The server itself compacts blocks up to 31 days; longer blocks only mean fewer indexes.

What comes back differs where Prometheus stores less than was written: timestamps are milliseconds
(promtool cuts the sub-millisecond digits), and of two samples of a series that fall in the same
millisecond the second is dropped without a word.
"""
import json
import time
from pathlib import Path

from benchmarks.tsdb_counting import count_mismatches
from benchmarks.tsdb_processes import disk_bytes, run_tool
from benchmarks.tsdb_readers import read_promtool_dump
from benchmarks.tsdb_systems import (
    MEASURED, Outcome, System, partition_count, plural, points_before_1970, program_version,
    too_many_partitions,
)
from lib.data.dataset import NS_PER_MS
from lib.data.exporters import export_file

BLOCK_HOURS = 2 * 3**9  # the last of promtool's block ranges: 2 h, then each 3 times the one before
BLOCK_NS = BLOCK_HOURS * 3600 * 10**9
TOOL_SECONDS = 3600


class Prometheus(System):
    name = "Prometheus"
    package = "prometheus"
    programs = ("promtool",)

    def version(self):
        return program_version(["promtool", "--version"], r"version (\S+)", self.package)

    def cannot_hold(self, series_list):
        return (points_before_1970(series_list, "promtool drops without a word")
                or too_many_partitions(partition_count(series_list, BLOCK_NS), f"{BLOCK_HOURS}-hour blocks",
                                       self.name))

    def measure(self, series_list, workdir, progress):
        folder = Path(workdir)
        text, blocks = folder / "dataset.om", folder / "blocks"
        progress(f"{self.name}: writing OpenMetrics text")
        export_file(series_list, "openmetrics", text)
        progress(f"{self.name}: promtool tsdb create-blocks-from openmetrics")
        start = time.perf_counter()
        run_tool("promtool", ["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                              f"--max-block-duration={BLOCK_HOURS}h", str(text), str(blocks)],
                 folder / "create-blocks.out", folder, TOOL_SECONDS)
        ingest_seconds = time.perf_counter() - start
        text.unlink()
        parts, block_count = block_parts(blocks)
        samples, chunks = block_stats(blocks)
        progress(f"{self.name}: promtool tsdb dump")
        (blocks / "wal").mkdir()  # `dump` opens the folder as a database, which needs a (here empty) WAL
        dump = folder / "dump.txt"
        run_tool("promtool", ["promtool", "tsdb", "dump", str(blocks)], dump, folder, TOOL_SECONDS)
        with open(dump, encoding="utf-8") as lines:
            returned = read_promtool_dump(lines)
        outcome = Outcome(self.name, self.package, MEASURED, bytes=sum(parts.values()),
                          parts=parts, partitions=plural(block_count, "block"),
                          mismatches=count_mismatches(series_list, returned), ingest_seconds=ingest_seconds)
        outcome.notes.append(f"blocks of up to {BLOCK_HOURS:,} hours; timestamps kept in ms "
                             f"({NS_PER_MS:,} ns)")
        if chunks:
            outcome.notes.append(f"{plural(chunks, 'chunk')} of {samples / chunks:.1f} samples on average "
                                 f"(meta.json)")
        return outcome


def block_stats(blocks):
    """(samples, chunks) over the blocks, as their meta.json files count them."""
    samples = chunks = 0
    for meta in Path(blocks).glob("*/meta.json"):
        stats = json.loads(meta.read_text()).get("stats", {})
        samples += stats.get("numSamples", 0)
        chunks += stats.get("numChunks", 0)
    return samples, chunks


def block_parts(blocks):
    """({part: bytes}, number of blocks) of the block folders under `blocks`: chunks, index, and
    meta (meta.json and tombstones)."""
    parts = {"chunks": 0, "index": 0, "meta": 0}
    folders = [f for f in sorted(Path(blocks).iterdir()) if (f / "meta.json").is_file()]
    for block in folders:
        chunks, index = disk_bytes(block / "chunks"), (block / "index").stat().st_size
        parts["chunks"] += chunks
        parts["index"] += index
        parts["meta"] += disk_bytes(block) - chunks - index
    return parts, len(folders)
