"""`squeeze.py rollup`: phase 5's roll-up levels built from a METRICS! file, a few series at a time.

Series are read from the file (each its own blocks only) in groups of at most CHUNK_POINTS points
(a longer series alone), rolled up at every level of the retention policy, each level from the
finer one (lib/rollup/levels.py), and their columns (lib/storage/rollup_files.py) handed to one
StreamingWriter per level: memory holds one group of series and its roll-ups, plus each writer's
bounded buffer, whatever the size of the file. As in phase 5, the 1-minute level is light
(LIGHT_RESOLUTIONS): count, sum, min, max for gauges, count and increase for counters.

The folder also gets `source.json`, naming the file the roll-ups were built from by its size and
the CRC32 of its header and index: `query` refuses roll-ups built from another version of it,
which would answer for data the file no longer holds.
"""
import json
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from lib.data.dataset import chunks_of_points
from lib.errors import SqueezedSignalsError
from lib.plumbing.atomic import write_bytes_atomically
from lib.plumbing.progress import Progress
from lib.retention.policy import DEFAULT_POLICY
from lib.rollup.buckets import check_resolutions
from lib.rollup.levels import rollup_dataset
from lib.storage.metrics_file import MetricsFile
from lib.storage.rollup_files import (
    LIGHT_RESOLUTIONS, ROLLUP_FILE_GLOB, resolution_label, rollup_filename, rollup_to_series,
)
from lib.storage.streaming_writer import StreamingWriter

CHUNK_POINTS = 500_000
SOURCE_FILENAME = "source.json"
ROLLUPS_SUFFIX = ".rollups"


def default_folder(path):
    """Where `rollup` puts the levels of FILE unless told: FILE's folder, `<FILE name>.rollups`."""
    path = Path(path)
    return path.with_name(path.name + ROLLUPS_SUFFIX)


def fingerprint(metrics_file):
    """"<size>:<CRC32 of header and index>" of an opened METRICS! file."""
    return f"{metrics_file.file_size}:{metrics_file.layout.checksum:08x}"


def built_from(folder, metrics_file):
    """True if the roll-ups in `folder` were built from this version of the opened file, False if
    from another, None if the folder has no readable source.json."""
    try:
        source = json.loads((Path(folder) / SOURCE_FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return isinstance(source, dict) and source.get("fingerprint") == fingerprint(metrics_file)


@dataclass
class Level:
    resolution_ns: int
    path: Path
    light: bool
    columns: int = 0
    buckets: int = 0
    bytes: int = 0


def build_rollups(path, folder=None, policy=DEFAULT_POLICY):
    """Write one roll-up file per roll-up tier of `policy` into `folder`; the levels written."""
    folder = Path(folder) if folder is not None else default_folder(path)
    try:
        resolutions = check_resolutions(policy.rollup_resolutions())
    except ValueError as exc:
        raise SqueezedSignalsError(f"retention policy {policy}: {exc}") from None
    levels = [Level(r, folder / rollup_filename(r), r in LIGHT_RESOLUTIONS) for r in resolutions]
    created = not folder.exists()
    try:
        source = write_levels(path, folder, levels)
    except BaseException:
        if created:  # the writers removed their temporary files; a folder made for them goes too
            shutil.rmtree(folder, ignore_errors=True)
        raise
    for stale in set(folder.glob(ROLLUP_FILE_GLOB)) - {level.path for level in levels}:
        stale.unlink()  # a level of an earlier policy must not answer queries for this one
    write_bytes_atomically(folder / SOURCE_FILENAME, (json.dumps(source, indent=1) + "\n").encode("utf-8"))
    return levels


def write_levels(path, folder, levels):
    """Roll the file up into the levels' files; the description of the source for source.json."""
    resolutions = [level.resolution_ns for level in levels]
    with MetricsFile(path) as f, ExitStack() as stack:
        (folder / SOURCE_FILENAME).unlink(missing_ok=True)  # until all levels are written, none answers
        writers = [stack.enter_context(StreamingWriter(level.path, f.block_points)) for level in levels]
        progress = Progress("rolling up", sum(e.points for e in f.series))
        for entries in chunks_of_points(f.series, CHUNK_POINTS):
            chunk = [f.read_series(e.name, e.labels) for e in entries]
            for level, writer, rollups in zip(levels, writers, roll_up(chunk, resolutions).values()):
                write_level_columns(writer, level, rollups)
            progress.advance(sum(e.points for e in entries))
        source = {"file": Path(path).name, "fingerprint": fingerprint(f)}
    progress.finish()
    for level, writer in zip(levels, writers):
        level.bytes = writer.size
    return source


def roll_up(series_list, resolutions):
    """rollup_dataset, with what no roll-up can hold (reserved labels, timestamps at the int64
    limits) refused in one line."""
    try:
        return rollup_dataset(series_list, resolutions)
    except ValueError as exc:
        raise SqueezedSignalsError(f"cannot roll up: {exc}") from None


def write_level_columns(writer, level, rollups):
    for rollup in rollups:
        try:
            columns = rollup_to_series(rollup, level.light)
        except ValueError as exc:  # a series already carrying a reserved label
            raise SqueezedSignalsError(f"cannot roll up {rollup.name}{rollup.labels}: {exc}") from None
        for column in columns:
            writer.add(column.name, column.labels, column.timestamps, column.values)
            writer.end_series(column.name, column.labels)
        level.columns += len(columns)
        level.buckets += len(rollup)


def print_levels(levels, folder):
    print(f"roll-ups in {folder}:")
    for level in levels:
        keeps = "light (count, sum, min, max; count, increase)" if level.light else "every aggregate and the sketch"
        print(f"  {resolution_label(level.resolution_ns):>5}  {level.path.name:<22} {level.buckets:>10,} buckets "
              f"{level.bytes:>12,} bytes  {keeps}")
