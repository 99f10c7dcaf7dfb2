"""VictoriaMetrics: the dataset as Prometheus text with millisecond timestamps, posted to
`/api/v1/import/prometheus`, flushed and merged, read back from `/api/v1/export`.

VictoriaMetrics keeps a folder per calendar month under `data/` (parts of rows sorted by series and
time, values and timestamps compressed in blocks) and an inverted index of the labels in
`indexdb/`; both are what it needs to answer a query and both are counted. Not counted: `cache/`
(rebuilt from those two), `metadata/`, `snapshots/` and `tmp/`.

Values are stored as a decimal mantissa and exponent, not as float64: a value printed with all the
17 digits a float64 can need comes back rounded (by a relative error of up to 1e-12 on the datasets
of docs/databases.md), a NaN is dropped, -0.0 comes back as 0 and a subnormal as 0. Timestamps are
milliseconds. The import formats have no finer unit, so sub-millisecond digits are floored here
before writing, and counted as "another timestamp (sub-ms only)" when they do not come back. Two
samples at the same millisecond are both kept (deduplication is off by default). A timestamp below
2**31 ms (before 1970-01-25) is taken for seconds and multiplied by 1000.

The server runs with `-retentionPeriod=100y` (the default, one month, would delete older points)
and listens on 127.0.0.1 only; its other listeners (Graphite, InfluxDB, OpenTSDB) are off unless
asked for, and are not.
"""
import time
import urllib.parse
from pathlib import Path

from benchmarks.tsdb_counting import count_mismatches
from benchmarks.tsdb_processes import Server, disk_bytes, free_port, http, http_lines, settle
from benchmarks.tsdb_readers import read_vm_export
from benchmarks.tsdb_systems import (
    MEASURED, Outcome, System, days, floored_to_ms, later_than, month_count, now_ns, plural,
    points_before_1970, program_version, too_many_partitions,
)
from lib.data.exporters import export_file

RETENTION = "100y"
FUTURE_DAYS = 2  # VictoriaMetrics refuses samples more than two days ahead of its clock
COUNTED = ("data", "indexdb")


class VictoriaMetrics(System):
    name = "VictoriaMetrics"
    package = "victoria-metrics"
    programs = ("victoria-metrics",)

    def version(self):
        return program_version(["victoria-metrics", "-version"], r"-(v\d\S*)", self.package)

    def cannot_hold(self, series_list):
        ahead = later_than(series_list, now_ns() + days(FUTURE_DAYS))
        if ahead:
            return f"{ahead:,} points are more than {FUTURE_DAYS} days ahead, which {self.name} refuses"
        return (points_before_1970(series_list, f"{self.name} refuses (its smallest timestamp is 0)")
                or too_many_partitions(month_count(series_list), "calendar months", self.name))

    def measure(self, series_list, workdir, progress):
        folder = Path(workdir)
        text, storage = folder / "dataset.prom", folder / "storage"
        progress(f"{self.name}: writing Prometheus text (ms timestamps)")
        floored, changed = floored_to_ms(series_list)
        export_file(floored, "prometheus-text", text)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = ["victoria-metrics", f"-storageDataPath={storage}", f"-httpListenAddr=127.0.0.1:{port}",
                f"-retentionPeriod={RETENTION}", "-loggerLevel=WARN"]
        with Server(self.name, argv, folder / "server.log", folder) as server:
            server.wait_ready(f"{base}/health")
            server.check_loopback_only()
            progress(f"{self.name}: importing")
            start = time.perf_counter()
            with open(text, "rb") as body:
                http(f"{base}/api/v1/import/prometheus", data=body,
                     headers={"Content-Length": str(text.stat().st_size), "Content-Type": "text/plain"})
            http(f"{base}/internal/force_flush")
            ingest_seconds = time.perf_counter() - start
            text.unlink()
            progress(f"{self.name}: merging, waiting for the size on disk to settle")
            http(f"{base}/internal/force_merge")
            settle(lambda: tuple(disk_bytes(storage / part) for part in COUNTED))
            parts = {part: disk_bytes(storage / part) for part in COUNTED}
            progress(f"{self.name}: exporting")
            returned = read_vm_export(http_lines(export_url(base, series_list)))
        outcome = Outcome(self.name, self.package, MEASURED, bytes=sum(parts.values()), parts=parts,
                          partitions=plural(len(month_folders(storage)), "monthly partition"),
                          mismatches=count_mismatches(series_list, returned), ingest_seconds=ingest_seconds)
        if changed:
            outcome.notes.append(f"{changed:,} timestamps had sub-millisecond digits, floored before writing")
        return outcome


def export_url(base, series_list):
    """/api/v1/export of every series, over a range (in seconds) that holds every point."""
    last_ms = max((int(s.timestamps.max()) // 10**6 for s in series_list if len(s)), default=0)
    every_series = '{__name__!=""}'
    query = urllib.parse.urlencode({"match[]": every_series, "start": "0", "end": f"{last_ms // 1000 + 1}"})
    return f"{base}/api/v1/export?{query}"


def month_folders(storage):
    """The monthly partitions that hold data: YYYY_MM folders under data/small and data/big."""
    names = set()
    for size in ("small", "big"):
        folder = Path(storage) / "data" / size
        if folder.is_dir():
            names |= {p.name for p in folder.iterdir() if p.is_dir() and any(p.iterdir())}
    return names
