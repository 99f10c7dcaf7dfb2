"""Where a METRICS! write and read spend their time, per block and per point.

A block of 120 points (one Prometheus chunk per series, the corpus class high_cardinality) costs
almost as much to choose, encode and decode as a block of 5,000: the work is a few hundred numpy
calls on small arrays, and numpy's fixed cost per call, not the work per value, is what the time
goes on. This splits the time of `write_file` into the timestamp choice, the value choice (both
estimate, then encode the codecs worth trying) and the rest (block framing, CRCs, shared-timestamp
lookups, the index, the file), and the time of `read_file` into the dense bins streams (decoded
together, lib/codecs/bins/batched.py; a sparse stream's zero runs and values are two of them),
the rest of decoding the blocks (headers, each codec's arithmetic, sparse streams' positions)
and the rest (index, checks, Series objects), each per block and per point, so that the classes
can be compared: a cost per block that stays put while the points per block shrink is a fixed
cost, and a cost per point that stays put is the work per value.

    python benchmarks/bench_block_costs.py                     # high_cardinality and regular_seconds
    python benchmarks/bench_block_costs.py --classes prometheus_rate float32_hourly_mixed --scale 1
"""
import argparse
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import corpus  # noqa: E402
from lib.codecs.bins import batched  # noqa: E402
from lib.data.dataset import total_points  # noqa: E402
from lib.storage import metrics_file  # noqa: E402
from lib.storage.metrics_file import MetricsFile  # noqa: E402
from lib.storage.streaming_writer import write_file  # noqa: E402

DEFAULT_CLASSES = ("high_cardinality", "regular_seconds")
# The functions timed, as (module, name): the callers look them up there when they call them.
WRITE_PARTS = {(metrics_file, "encode_timestamps_best"): "timestamps",
               (metrics_file, "encode_values_best"): "values"}
READ_PARTS = {(batched, "decode_dense_streams"): "dense bins", (metrics_file, "decode_blocks_batched"): "decode"}


@contextmanager
def timed_calls(functions, seconds):
    """Add the time spent in each of `functions` ((module, name) pairs) to seconds[(module, name)],
    less the time spent in the others it calls: bins streams decoded while a block is decoded
    count as bins, not as decoding too. A call that raises is counted up to the raise."""
    originals = {(module, name): getattr(module, name) for module, name in functions}
    running = []  # [time spent in timed functions called by the one running], innermost last

    def timer(key, function):
        def call(*args, **kwargs):
            start = time.perf_counter()
            running.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                seconds[key] += elapsed - running.pop()
                if running:
                    running[-1] += elapsed
        return call

    for (module, name), function in originals.items():
        setattr(module, name, timer((module, name), function))
    try:
        yield
    finally:
        for (module, name), function in originals.items():
            setattr(module, name, function)


def costs(parts, run):
    """{part: seconds} of one `run()`: the time in each of `parts` ({(module, function name): part}),
    and the rest."""
    seconds = dict.fromkeys(parts, 0.0)
    with timed_calls(parts, seconds):
        start = time.perf_counter()
        run()
        total = time.perf_counter() - start
    return {**{parts[key]: spent for key, spent in seconds.items()}, "rest": total - sum(seconds.values())}


def best_of(repeat, measure):
    """The run of `measure()` with the smallest total, of `repeat` runs."""
    return min((measure() for _ in range(repeat)), key=lambda parts: sum(parts.values()))


def report_line(name, parts, blocks, points):
    cells = "  ".join(f"{part} {1e6 * seconds / blocks:7.0f} us/block {1e9 * seconds / points:6.0f} ns/pt"
                      for part, seconds in parts.items())
    return f"  {name:6} {cells}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0])
    parser.add_argument("--classes", nargs="+", default=list(DEFAULT_CLASSES), choices=corpus.names(),
                        metavar="CLASS", help=f"corpus classes (default: {' '.join(DEFAULT_CLASSES)})")
    parser.add_argument("--scale", type=float, default=0.1, help="fraction of each class (default 0.1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is kept")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in args.classes:
        series = corpus.get(name).build(args.seed, args.scale)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "costs.metrics"
            write = best_of(args.repeat, lambda: costs(WRITE_PARTS, lambda: write_file(path, series)))
            read = best_of(args.repeat, lambda: costs(READ_PARTS, lambda: metrics_file.read_file(path)))
            with MetricsFile(path) as opened:
                blocks = sum(len(entry.blocks) for entry in opened.series)
        points = total_points(series)
        print(f"{name}: {len(series):,} series, {blocks:,} blocks, {points / blocks:,.0f} points a block")
        print(report_line("write", write, blocks, points))
        print(report_line("read", read, blocks, points))


if __name__ == "__main__":
    main()
