"""Compare the METRICS! file with the real databases on the same points: Prometheus, VictoriaMetrics
and InfluxDB, as Debian packages them, each writing the dataset in its own way, measured on disk
and read back point by point.

    python benchmarks/compare_tsdbs.py                     # the dataset main.py generates
    python benchmarks/compare_tsdbs.py --size medium --json tsdbs.json
    python benchmarks/compare_tsdbs.py --corpus real_pvlib_weather
    python benchmarks/compare_tsdbs.py --import data/ --format csv-long --systems prometheus,influxdb

The datasets are compare_peers.py's (`--size`, `--seed`, `--series`, `--points`, `--import`,
`--format`, `--real`, `--corpus CLASS ... [--scale F]`). Each system that is installed gets the
dataset in its own ingest format, written by the project's exporters (lib/data/exporters):

- Prometheus: OpenMetrics text into `promtool tsdb create-blocks-from openmetrics` (blocks as long
  as promtool makes them), read back with `promtool tsdb dump` (benchmarks/tsdb_prometheus.py);
- VictoriaMetrics: Prometheus text with millisecond timestamps to `/api/v1/import/prometheus`, then
  `/internal/force_flush` and `/internal/force_merge`, read back from `/api/v1/export`
  (benchmarks/tsdb_victoriametrics.py);
- InfluxDB 1.x: line protocol to `/write?precision=ns` in batches of 5,000, compacted by its cold-write
  settings, read back with `SELECT "value" FROM /.*/ GROUP BY *` and `epoch=ns`
  (benchmarks/tsdb_influxdb.py).

Servers listen on 127.0.0.1 only, on free ports, with their data in a temporary folder that is
removed at the end; they are stopped on every way out (a normal end, an error, Ctrl-C, SIGTERM).
The bytes are those each system needs to answer queries, after flushing and compacting and once
the size on disk has stopped changing; each system's module says what is counted and why. The
readback is matched point by point (benchmarks/tsdb_counting.py): missing, extra, at another time
(sub-millisecond digits only, or more), with another float64 bit pattern (NaN payload only, or
more); exact means none. A dataset a system cannot hold (points before 1970, a span of more than
1,000 blocks, months or shards, something its ingest format cannot carry) is skipped for that
system with the reason; a system that is not installed is a line saying how to install it.

Exit status: 0 when every installed system ran (exact or not: that is the measurement), 1 when one
failed or the METRICS! file did not come back exact, 2 for a usage error.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus  # noqa: E402
from benchmarks.compare_peers import build_dataset, check_corpus_args  # noqa: E402
from benchmarks.peer_datasets import corpus_dataset  # noqa: E402
from benchmarks.peers import PROJECT_FILE_PEER, metrics_file_peer  # noqa: E402
from benchmarks.tsdb_counting import count_mismatches  # noqa: E402
from benchmarks.tsdb_influxdb import InfluxDB  # noqa: E402
from benchmarks.tsdb_processes import stop_on_signals  # noqa: E402
from benchmarks.tsdb_prometheus import Prometheus  # noqa: E402
from benchmarks.tsdb_report import format_report  # noqa: E402
from benchmarks.tsdb_systems import FAILED, Outcome, run_system  # noqa: E402
from benchmarks.tsdb_victoriametrics import VictoriaMetrics  # noqa: E402
from lib.plumbing.atomic import atomic_write  # noqa: E402
from lib.runner.cli import add_dataset_arguments, exit_on_user_error  # noqa: E402

SYSTEMS = {"prometheus": Prometheus, "victoriametrics": VictoriaMetrics, "influxdb": InfluxDB}
METRICS_FILE = "METRICS! file"


def progress_line(label):
    print(f"running {label}", file=sys.stderr, flush=True)


def metrics_file_outcome(series_list, workdir):
    """The project's own row: the phase-4 file written, read back and matched like the databases."""
    peer = metrics_file_peer(PROJECT_FILE_PEER)
    start = time.perf_counter()
    encoded = peer.encode(series_list, workdir)
    seconds = time.perf_counter() - start
    returned = peer.decode(encoded)
    return Outcome(METRICS_FILE, "squeezed-signals", version="this checkout", bytes=encoded.size,
                   parts={"file": encoded.size}, partitions="1 file", ingest_seconds=seconds,
                   mismatches=count_mismatches(series_list, returned))


def compare(dataset, systems, progress=progress_line):
    """[METRICS! file outcome, one outcome per system] for the dataset; each system works in a
    temporary folder of its own, removed when it is done."""
    with tempfile.TemporaryDirectory(prefix="compare-tsdbs-") as scratch:
        outcomes = [metrics_file_outcome(dataset.series, scratch)]
        for system in systems:
            with tempfile.TemporaryDirectory(prefix=f"{system.package}-", dir=scratch) as workdir:
                outcomes.append(run_system(system, dataset.series, workdir, progress))
    return outcomes


def report_json(dataset, outcomes, class_name=None):
    metrics_bytes = outcomes[0].bytes
    return {"dataset": dataset.description, "class": class_name, "series": len(dataset.series),
            "points": dataset.points,
            "rows": [o.as_json(dataset.points, metrics_bytes) for o in outcomes]}


def failed(outcomes):
    return outcomes[0].mismatches is None or not outcomes[0].mismatches.exact or any(
        o.status == FAILED for o in outcomes)


# Command line

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0])
    add_dataset_arguments(parser)
    parser.add_argument("--real", action="store_true",
                        help="the real time series shipped by vega_datasets (and statsmodels)")
    parser.add_argument("--corpus", nargs="*", metavar="CLASS",
                        help=f"classes of the benchmark corpus (default: all): {', '.join(corpus.names())}")
    parser.add_argument("--scale", type=float, metavar="FRACTION",
                        help="with --corpus: shrink every class to this fraction, 0 < FRACTION <= 1 "
                             "(default 1)")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help=f"comma-separated systems to run (default: all of {','.join(SYSTEMS)})")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results to FILE as JSON")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.systems.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SYSTEMS))
    if unknown or not chosen:
        parser.error(f"unknown system(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(SYSTEMS)}")
    if args.real and args.import_paths:
        parser.error("--real and --import are alternatives")
    check_corpus_args(parser, args)
    args.save_real = None  # compare_peers' build_dataset option; the converted files are not kept here
    args.systems = [SYSTEMS[name]() for name in chosen]
    return args


def datasets(args):
    """(class name or None, Dataset) for each dataset the options choose."""
    if args.corpus is None:
        with tempfile.TemporaryDirectory(prefix="compare-tsdbs-data-") as scratch:
            dataset = build_dataset(args, scratch)
        yield None, dataset
        return
    for name in args.corpus:
        klass = corpus.get(name)
        if not klass.available():
            print(f"class {name}: needs the {klass.package} package: "
                  f"pip install -r benchmarks/requirements-peers.txt", flush=True)
            continue
        yield name, corpus_dataset(klass, args.seed, args.scale)


def main(argv=None):
    args = parse_args(argv)
    results, any_failed = [], False
    with stop_on_signals():
        for class_name, dataset in datasets(args):
            outcomes = compare(dataset, args.systems)
            print(format_report(dataset, outcomes), flush=True)
            print()
            results.append(report_json(dataset, outcomes, class_name))
            any_failed = any_failed or failed(outcomes)
    if args.json:
        document = results if args.corpus is not None else results[0]
        with atomic_write(args.json) as out:
            out.write((json.dumps(document, indent=2) + "\n").encode())
    if any_failed:
        sys.exit(1)


if __name__ == "__main__":
    exit_on_user_error(main)
