"""Peak memory and throughput of `squeeze.py compress` as the input grows: memory must stay flat.

For each size (1, 10 and 50 million points by default) this writes an input file of 1,000 series
interleaved as a scrape loop writes them (every series' point at 15 s with millisecond jitter, then
every series' next point), in long CSV or InfluxDB line protocol, then runs `squeeze.py compress`
on it in a process of its own and reads that process's peak resident memory from os.wait4 (the
kernel's accounting, ru_maxrss). The same data is also written by the batch writer (`write_file`,
which takes whole series, as phase 4 does; also in a process of its own, after `import_paths` has
collected every point) so that the two files' bytes per point can be compared; at 50 million
points the batch writer's process needs the whole dataset in memory (16 bytes a point and more).

    python benchmarks/bench_compress_memory.py                      # 1, 10, 50 M points, long CSV
    python benchmarks/bench_compress_memory.py --sizes 1 --format influx
    python benchmarks/bench_compress_memory.py --no-batch           # skip the batch writer's run

Half the series are gauges (a random walk printed with 2 decimals), half counters (integers that
grow by a few a scrape). The input files go to a scratch folder (--workdir) and are removed at the
end unless --keep.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
T0_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SCRAPE_MS = 15_000
ROUNDS_PER_WRITE = 200
BATCH_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from lib.data.importers import import_paths
from lib.storage.streaming_writer import write_file
print(write_file(sys.argv[3], import_paths([sys.argv[2]]).series))
"""


def scrape_rounds(series, points, seed=1):
    """(timestamps ms [rounds, series], values [rounds, series]) in chunks of ROUNDS_PER_WRITE rounds."""
    rng = np.random.default_rng(seed)
    rounds = points // series
    level = rng.uniform(10, 90, series)
    total = rng.integers(0, 10**6, series)
    gauge = np.arange(series) % 2 == 0
    offset = rng.integers(0, SCRAPE_MS, series)
    for first in range(0, rounds, ROUNDS_PER_WRITE):
        count = min(ROUNDS_PER_WRITE, rounds - first)
        slots = np.arange(first, first + count)[:, None]
        timestamps = T0_MS + slots * SCRAPE_MS + offset + rng.integers(-3, 4, (count, series))
        level = np.clip(level + np.cumsum(rng.normal(0, 0.5, (count, series)), axis=0), 0, 100)
        total = total + np.cumsum(rng.integers(0, 20, (count, series)), axis=0)
        values = np.where(gauge, np.round(level, 2), total)
        level, total = level[-1], total[-1]
        yield timestamps, values


def write_input(path, fmt, series, points):
    """The interleaved input file; returns the number of points written."""
    names = [("cpu_usage_percent" if i % 2 == 0 else "http_requests_total", f"pod-{i:04d}") for i in range(series)]
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        if fmt == "csv-long":
            out.write("timestamp,metric,pod,value\n")
        for timestamps, values in scrape_rounds(series, points):
            rows = []
            for row_ts, row_values in zip(timestamps.tolist(), values.tolist()):
                if fmt == "csv-long":
                    rows += [f"{t},{n},{pod},{v:g}" for t, (n, pod), v in zip(row_ts, names, row_values)]
                else:
                    rows += [f"{n},pod={pod} value={v:g} {t * 1_000_000}" for t, (n, pod), v in zip(row_ts, names, row_values)]
            out.write("\n".join(rows) + "\n")
            written += len(rows)
    return written


def run_child(command):
    """(seconds, peak RSS in bytes, stdout) of a command run in a process of its own."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed with exit code {child.returncode}")
    return seconds, usage.ru_maxrss * 1024, output  # Linux reports ru_maxrss in KiB


def measure(size_millions, fmt, series, workdir, batch):
    suffix = ".csv" if fmt == "csv-long" else ".lp"
    source = workdir / f"input_{size_millions}M{suffix}"
    points = write_input(source, fmt, series, size_millions * 1_000_000)
    out = workdir / f"streamed_{size_millions}M.bin"
    seconds, rss, _ = run_child([sys.executable, str(PROJECT / "squeeze.py"), "compress", str(source), str(out)])
    row = {"points": points, "input_bytes": source.stat().st_size, "seconds": seconds, "rss": rss,
           "bytes": out.stat().st_size, "batch_bytes": None, "batch_rss": None}
    if batch:
        batch_out = workdir / f"batch_{size_millions}M.bin"
        _, row["batch_rss"], _ = run_child([sys.executable, "-c", BATCH_SCRIPT, str(PROJECT), str(source), str(batch_out)])
        row["batch_bytes"] = batch_out.stat().st_size
        batch_out.unlink()
    return row


def print_table(rows, fmt, series):
    print(f"squeeze.py compress, {fmt}, {series:,} series interleaved (peak RSS of each process, from os.wait4)")
    print(f"{'points':>12} {'input MB':>9} {'seconds':>8} {'points/s':>10} {'peak RSS MB':>12} {'B/pt streamed':>14} "
          f"{'B/pt batch':>11} {'difference':>11} {'batch RSS MB':>13}")
    for r in rows:
        batch = r["batch_bytes"]
        cells = (f"{batch / r['points']:>11.4f} {100 * (r['bytes'] - batch) / batch:>+10.2f}% {r['batch_rss'] / 2**20:>13,.0f}"
                 if batch else f"{'-':>11} {'-':>11} {'-':>13}")
        print(f"{r['points']:>12,} {r['input_bytes'] / 2**20:>9,.0f} {r['seconds']:>8.1f} {r['points'] / r['seconds']:>10,.0f} "
              f"{r['rss'] / 2**20:>12,.0f} {r['bytes'] / r['points']:>14.4f} {cells}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,50", help="millions of points, comma-separated (default 1,10,50)")
    parser.add_argument("--format", choices=("csv-long", "influx"), default="csv-long")
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, help="scratch folder for the inputs (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the input and output files")
    parser.add_argument("--no-batch", dest="batch", action="store_false", help="skip the batch writer's run")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
        workdir = Path(scratch)
        rows = []
        for size in sizes:
            rows.append(measure(size, args.format, args.series, workdir, args.batch))
            print(f"  {size} M points done", file=sys.stderr)
            if not args.keep:
                for path in workdir.iterdir():
                    path.unlink()
        print_table(rows, args.format, args.series)
        if args.keep:
            print(f"files kept in {workdir}: move them out before this folder is removed", file=sys.stderr)
            input("press Enter to remove them ")


if __name__ == "__main__":
    main()
