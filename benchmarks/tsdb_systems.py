"""What the databases of benchmarks/compare_tsdbs.py share: the outcome of a run, the rules that
skip a dataset a system cannot hold, finding the programs and their versions, and one run.

A system (tsdb_prometheus.py, tsdb_victoriametrics.py, tsdb_influxdb.py) says which programs it
needs and which Debian package has them, why it cannot take a dataset (`cannot_hold`), and how to
write, measure and read the dataset back (`measure`). `run_system` turns each way that can end into
an Outcome: measured, not installed (with the apt-get command), skipped (with the reason), or
failed (with the server's own words). Only Ctrl-C (KeyboardInterrupt) goes past it.
"""
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from benchmarks.tsdb_counting import Mismatches
from benchmarks.tsdb_processes import SystemFailure, clean_environment
from lib.data.dataset import DAY_NS, NS_PER_MS, Series
from lib.errors import FormatError, UnrepresentableError

# More partitions than this (blocks, monthly partitions, shards) is not a fair test of a database
# meant for recent data, and takes long: such a dataset is skipped for that system.
MAX_PARTITIONS = 1000
MEASURED, NOT_INSTALLED, SKIPPED, FAILED = "measured", "not installed", "skipped", "failed"


@dataclass
class Outcome:
    system: str
    package: str
    status: str = MEASURED
    reason: Optional[str] = None  # why not installed, skipped or failed
    version: Optional[str] = None
    bytes: Optional[int] = None
    parts: dict = field(default_factory=dict)  # what was counted -> bytes
    partitions: Optional[str] = None  # "1 block", "2 monthly partitions", ...
    mismatches: Optional[Mismatches] = None
    ingest_seconds: Optional[float] = None
    notes: list = field(default_factory=list)

    def as_json(self, points, metrics_bytes):
        per_point = self.bytes / points if self.bytes is not None and points else None
        ratio = self.bytes / metrics_bytes if self.bytes is not None and metrics_bytes else None
        return {
            "system": self.system, "package": self.package, "status": self.status, "reason": self.reason,
            "version": self.version, "points": points, "bytes": self.bytes, "parts": self.parts,
            "bytes_per_point": None if per_point is None else round(per_point, 4),
            "ratio_vs_metrics_file": None if ratio is None else round(ratio, 4),
            "partitions": self.partitions,
            "exact": None if self.mismatches is None else self.mismatches.exact,
            "mismatches": None if self.mismatches is None else self.mismatches.as_json(),
            "ingest_seconds": None if self.ingest_seconds is None else round(self.ingest_seconds, 3),
            "notes": self.notes,
        }


class System:
    """A database: subclasses set the names and implement cannot_hold and measure."""
    name = ""
    package = ""  # the Debian package with its programs
    programs = ()

    def missing_program(self):
        return next((p for p in self.programs if shutil.which(p) is None), None)

    def version(self):
        raise NotImplementedError

    def cannot_hold(self, series_list):
        """Why this system cannot hold the dataset, or None."""
        raise NotImplementedError

    def measure(self, series_list, workdir, progress):
        """Write, measure, read back; an Outcome with bytes, parts, partitions, mismatches, ingest_seconds."""
        raise NotImplementedError


def install_command(package):
    return f"apt-get install {package}"


def run_system(system, series_list, workdir, progress):
    """One system on one dataset, whatever happens, as an Outcome (Ctrl-C excepted)."""
    missing = system.missing_program()
    if missing is not None:
        return Outcome(system.name, system.package, NOT_INSTALLED,
                       f"{missing} not found; to include it: {install_command(system.package)}")
    version = None
    try:
        version = system.version()
        reason = system.cannot_hold(series_list)
        if reason is not None:
            return Outcome(system.name, system.package, SKIPPED, reason, version)
        outcome = system.measure(series_list, workdir, progress)
    except UnrepresentableError as exc:
        reason = f"its ingest format cannot carry the data: {exc}"
        return Outcome(system.name, system.package, SKIPPED, reason, version)
    except SystemFailure as exc:
        return Outcome(system.name, system.package, FAILED, str(exc), version)
    except FormatError as exc:
        return Outcome(system.name, system.package, FAILED, f"could not read its answer: {exc}", version)
    outcome.version = version
    return outcome


# Versions

def program_version(argv, pattern, package):
    """The version a program prints (the first group of `pattern`), else the Debian package's."""
    try:
        answer = subprocess.run(argv, capture_output=True, text=True, timeout=20, env=clean_environment("/"))
        found = re.search(pattern, answer.stdout + answer.stderr)
        if found:
            return found.group(1)
    except (OSError, subprocess.SubprocessError):
        pass
    return package_version(package)


def package_version(package):
    """The version dpkg has installed of `package`, or "unknown"."""
    try:
        answer = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                                text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return answer.stdout.strip() or "unknown"


# Rules that skip a dataset

def points_before_1970(series_list, what_happens):
    """The reason a system cannot take a dataset with points before the epoch, or None."""
    early = sum(int(np.count_nonzero(s.timestamps < 0)) for s in series_list)
    if not early:
        return None
    first = min(int(s.timestamps.min()) for s in series_list if len(s))
    when = np.datetime64(first, "ns")
    return f"{early:,} points are before 1970 (the first at {when}), which {what_happens}"


def partition_count(series_list, width_ns, offset_ns=0):
    """How many partitions of `width_ns`, starting `offset_ns` before the epoch, hold points."""
    starts = [np.unique((s.timestamps + offset_ns) // width_ns) for s in series_list if len(s)]
    return int(np.unique(np.concatenate(starts)).size) if starts else 0


def month_count(series_list):
    """How many calendar months (UTC) hold points."""
    months = [np.unique(s.timestamps.astype("datetime64[ns]").astype("datetime64[M]"))
              for s in series_list if len(s)]
    return int(np.unique(np.concatenate(months)).size) if months else 0


def too_many_partitions(count, what, system):
    if count <= MAX_PARTITIONS:
        return None
    return (f"the points fall in {count:,} {what}, more than {MAX_PARTITIONS:,}: {system} is made for recent "
            f"data, not for spans like this one")


def floored_to_ms(series_list):
    """The dataset with every timestamp floored to a whole millisecond (the unit Prometheus and
    VictoriaMetrics store), and how many timestamps that changed."""
    floored = [Series(s.name, s.labels, s.timestamps - s.timestamps % NS_PER_MS, s.values)
               for s in series_list]
    changed = sum(int(np.count_nonzero(s.timestamps % NS_PER_MS)) for s in series_list)
    return floored, changed


def later_than(series_list, limit_ns):
    """How many points are after `limit_ns`."""
    return sum(int(np.count_nonzero(s.timestamps > limit_ns)) for s in series_list)


def now_ns():
    return time.time_ns()


def days(n):
    return n * DAY_NS


def plural(count, word):
    return f"{count:,} {word}{'' if count == 1 else 's'}"
