"""InfluxDB 1.x: the dataset as line protocol, written to `/write` with nanosecond precision in
batches, compacted, read back with an InfluxQL query.

InfluxDB cuts time into shard groups (7 days by default for a database kept forever: the default
`autogen` retention policy); each shard has its own TSM files (per series and field, blocks of up to
1,000 points: timestamps as run-length or simple8b deltas, floats as Gorilla XOR), its own index,
and a `fields.idx`; a database-wide series file (`_series/`) maps series keys to ids. The index here
is TSI (`index-version = "tsi1"`, the on-disk index InfluxDB recommends and 2.x keeps), so
everything a query reads is on disk: `data/` is counted (TSM, index, fields, series file) and
`meta/meta.db` (the catalogue of databases, retention policies and shards). The write-ahead log is
not: once the cache is written to TSM (`cache-snapshot-write-cold-duration = "1s"`, then a full
compaction after `compact-full-write-cold-duration = "1s"`), its segments are empty. The series
file's segments are sparse files preallocated to 4 MiB; only their written bytes count.

The configuration is written whole (nothing read from /etc or from INFLUXDB_* variables): HTTP and
the RPC service on 127.0.0.1 ports, no usage reporting, no _internal monitoring database (it would
write its own points), no continuous queries, retention or shard-precreation services, no
subscriber, no limits on series or tag values. Timestamps and float64 values are stored exactly;
a point written twice at the same nanosecond keeps the last value.
"""
import datetime
import time
import urllib.parse
from itertools import islice
from pathlib import Path

import numpy as np

from benchmarks.tsdb_counting import count_mismatches
from benchmarks.tsdb_processes import Server, SystemFailure, disk_bytes, free_port, http, http_lines, settle
from benchmarks.tsdb_readers import read_influxql_chunks
from benchmarks.tsdb_systems import (
    MEASURED, Outcome, System, days, partition_count, plural, program_version, too_many_partitions,
)
from lib.data.exporters import export_file
from lib.plumbing.progress import Progress

DATABASE = "squeezed"
SHARD_DAYS = 7
# Shard groups start at multiples of their duration since Go's zero time, 0001-01-01 (a Monday), so
# weekly shards start on Mondays: 1970-01-01 is this many days after the start of its shard.
SHARD_OFFSET_DAYS = (datetime.date(1970, 1, 1) - datetime.date(1, 1, 1)).days % SHARD_DAYS
BATCH_LINES = 5000  # InfluxDB's advice for a write: 5,000 points
# InfluxDB's time range: int64 nanoseconds except the two smallest and the largest values.
MIN_TIME_NS, MAX_TIME_NS = -(2**63) + 2, 2**63 - 2

CONFIG = """\
reporting-enabled = false
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{folder}/meta"
  retention-autocreate = true
  logging-enabled = false
[data]
  dir = "{folder}/data"
  wal-dir = "{folder}/wal"
  index-version = "tsi1"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "1s"
  compact-full-write-cold-duration = "1s"
  max-series-per-database = 0
  max-values-per-tag = 0
[coordinator]
  max-select-point = 0
  max-select-series = 0
[retention]
  enabled = false
[shard-precreation]
  enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  pprof-enabled = false
  unix-socket-enabled = false
  max-row-limit = 0
[ifql]
  enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
  suppress-logo = true
"""


class InfluxDB(System):
    name = "InfluxDB"
    package = "influxdb"
    programs = ("influxd",)

    def version(self):
        return program_version(["influxd", "version"], r"InfluxDB v(\S+)", self.package)

    def cannot_hold(self, series_list):
        outside = sum(int(np.count_nonzero((s.timestamps < MIN_TIME_NS) | (s.timestamps > MAX_TIME_NS)))
                      for s in series_list)
        if outside:
            return (f"{outside:,} timestamps are outside {self.name}'s range (int64 nanoseconds but the "
                    f"3 extremes)")
        shards = partition_count(series_list, days(SHARD_DAYS), days(SHARD_OFFSET_DAYS))
        return too_many_partitions(shards, f"{SHARD_DAYS}-day shards", self.name)

    def measure(self, series_list, workdir, progress):
        folder = Path(workdir)
        text = folder / "dataset.lp"
        progress(f"{self.name}: writing line protocol")
        points = export_file(series_list, "influx", text)
        http_port, rpc_port = free_port(), free_port()
        base = f"http://127.0.0.1:{http_port}"
        config = folder / "influxdb.conf"
        config.write_text(CONFIG.format(folder=folder, http_port=http_port, rpc_port=rpc_port))
        argv = ["influxd", "run", "-config", str(config)]
        with Server(self.name, argv, folder / "server.log", folder) as server:
            server.wait_ready(f"{base}/ping")
            server.check_loopback_only()
            query(base, f'CREATE DATABASE "{DATABASE}"')
            start = time.perf_counter()
            notes = write_batches(base, text, points)
            ingest_seconds = time.perf_counter() - start
            text.unlink()
            progress(f"{self.name}: waiting for the cache to be written and compacted")
            settle(lambda: (disk_bytes(folder / "data"), disk_bytes(folder / "wal")), interval=1.0)
            parts = data_parts(folder)
            progress(f"{self.name}: querying")
            returned = read_influxql_chunks(http_lines(select_url(base)))
        policy = folder / "data" / DATABASE / "autogen"
        shards = sum(1 for p in policy.iterdir() if p.is_dir()) if policy.is_dir() else 0
        outcome = Outcome(self.name, self.package, MEASURED, bytes=sum(parts.values()), parts=parts,
                          partitions=plural(shards, f"{SHARD_DAYS}-day shard"),
                          mismatches=count_mismatches(series_list, returned), ingest_seconds=ingest_seconds,
                          notes=notes)
        return outcome


def query(base, statement):
    http(f"{base}/query", data=urllib.parse.urlencode({"q": statement}).encode())


def write_batches(base, text, points):
    """POST the line protocol in batches of BATCH_LINES lines; a note if InfluxDB refused some points."""
    url = f"{base}/write?" + urllib.parse.urlencode({"db": DATABASE, "precision": "ns"})
    refusals, progress = [], Progress("InfluxDB: writing", points)
    with open(text, "rb") as lines:
        while batch := list(islice(lines, BATCH_LINES)):
            try:
                http(url, data=b"".join(batch))
            except SystemFailure as exc:
                if "partial write" not in str(exc):
                    raise
                refusals.append(str(exc))
            progress.advance(len(batch))
    progress.finish()
    if not refusals:
        return []
    return [f"{len(refusals)} of the write batches were written in part; the first: {refusals[0]}"]


def select_url(base):
    statement = 'SELECT "value" FROM /.*/ GROUP BY *'
    return f"{base}/query?" + urllib.parse.urlencode(
        {"db": DATABASE, "epoch": "ns", "chunked": "true", "chunk_size": "10000", "q": statement})


def data_parts(folder):
    """{part: bytes}: TSM files, the index (TSI, fields.idx, the series file) and the catalogue."""
    data = Path(folder) / "data"
    tsm = sum(disk_bytes(p) for p in data.rglob("*.tsm"))
    return {"tsm": tsm, "index": disk_bytes(data) - tsm, "meta": disk_bytes(Path(folder) / "meta")}
