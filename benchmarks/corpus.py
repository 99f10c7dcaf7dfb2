"""The benchmark corpus: classes of data as real exporters write them, each a seeded dataset.

The generated dataset of phase 0 is one mix of metrics; codecs meet many more kinds of numbers.
Each class here is one kind: a realistic signal (noise, trends, daily cycles, bursts, random walks,
restarts) put through the representation a named real exporter applies (float32 registers widened
to float64, binary fractions, multiples of 0.3 computed in floating point, Prometheus' rate(),
integers up to 2**53, stale markers, 6-decimal exchange rates, ...). The class's builder says
which exporter and how, in its docstring. The corpus is a yardstick, so no class is chosen or
tuned for what a codec likes; they are as faithful to the exporters as the generator can be.

    from benchmarks import corpus
    series_list = corpus.build("float32_hourly_mixed", seed=42, scale=0.1)

    python benchmarks/corpus.py high_cardinality --scale 0.1 --format openmetrics --out pods.om

writes a class as a file the importers read (lib/data/exporters), for trying the tool
(docs/tool.md) on data shaped like a real export.

The same (class, seed, scale) gives the same dataset bit for bit: series i of a class draws from
its own random stream seeded by (seed, class name, i). A class has a fixed shape at scale 1,
about 200,000 points; `scale` shrinks the points per series, or, for a class that is about shape
(many short series), the number of series. Classes of real data (`package` set) read files that a
package ships; without that package they are skipped, never faked.
`python benchmarks/compare_peers.py --corpus` compares the codecs on every class.
"""
import argparse
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

if __name__ == "__main__":  # run as a script: the checkout on the path, as for the other benchmarks
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (  # noqa: E402
    corpus_exports, corpus_metrics, corpus_real, corpus_sensors, corpus_timestamps,
)
from benchmarks.corpus_kit import rng_factory  # noqa: E402
from lib.data.dataset import canonical_order, total_points  # noqa: E402
from lib.data.exporters import FORMATS, export_file  # noqa: E402
from lib.data.generator import DEFAULT_SEED  # noqa: E402

MIN_POINTS = 2  # a scaled-down series keeps at least two points


@dataclass(frozen=True)
class CorpusClass:
    name: str
    builder: Callable  # (series count, points per series, rng_of) -> series; real: (scale) -> series
    series: int  # at scale 1
    points: int  # per series, at scale 1
    scales_series: bool = False  # True: --scale shrinks the number of series, each keeps its length
    package: Optional[str] = None  # real data read from files this package ships

    @property
    def summary(self):
        """The first sentence of the builder's docstring: which exporter writes such numbers."""
        text = " ".join((self.builder.__doc__ or "").split())
        return text.split(". ")[0].rstrip(".")

    def shape(self, scale=1.0):
        """(series, points per series) at `scale`."""
        if self.scales_series:
            return max(1, round(self.series * scale)), self.points
        return self.series, max(MIN_POINTS, round(self.points * scale))

    def available(self):
        return self.package is None or importlib.util.find_spec(self.package) is not None

    def build(self, seed=DEFAULT_SEED, scale=1.0):
        if self.package is not None:
            return canonical_order(self.builder(scale))
        series_count, points = self.shape(scale)
        return canonical_order(self.builder(series_count, points, rng_factory(seed, self.name)))


CLASSES = (
    CorpusClass("float32_modbus", corpus_sensors.float32_modbus, 40, 5_000),
    CorpusClass("float32_hourly_mixed", corpus_sensors.float32_hourly_mixed, 40, 5_000),
    CorpusClass("binary_fractions", corpus_sensors.binary_fractions, 40, 5_000),
    CorpusClass("float_step_products", corpus_sensors.float_step_products, 40, 5_000),
    CorpusClass("float32_scaled_counts", corpus_sensors.float32_scaled_counts, 40, 5_000),
    CorpusClass("prometheus_rate", corpus_metrics.prometheus_rate, 40, 5_000),
    CorpusClass("ratios", corpus_metrics.ratios, 40, 5_000),
    CorpusClass("byte_counters", corpus_metrics.byte_counters, 40, 5_000),
    CorpusClass("memory_pages", corpus_metrics.memory_pages, 40, 5_000),
    CorpusClass("high_cardinality", corpus_metrics.high_cardinality, 10_000, 120, scales_series=True),
    CorpusClass("events_ms", corpus_timestamps.events_ms, 40, 5_000),
    CorpusClass("regular_seconds", corpus_timestamps.regular_seconds, 40, 5_000),
    CorpusClass("regular_us", corpus_timestamps.regular_us, 40, 5_000),
    CorpusClass("regular_ns", corpus_timestamps.regular_ns, 40, 5_000),
    CorpusClass("daily_periodic", corpus_sensors.daily_periodic, 20, 10_080),
    CorpusClass("stale_and_nan", corpus_metrics.stale_and_nan, 40, 5_000),
    CorpusClass("constants", corpus_metrics.constants, 40, 5_000),
    CorpusClass("cloudwatch_5min", corpus_exports.cloudwatch_5min, 40, 5_000),
    CorpusClass("exchange_rates", corpus_exports.exchange_rates, 80, 2_500),
    # Real data: the shape is the files' (series and points per series before gaps).
    CorpusClass("real_pvlib_weather", corpus_real.pvlib_weather, 27, 8_760, package="pvlib"),
)
BY_NAME = {c.name: c for c in CLASSES}


def names():
    return [c.name for c in CLASSES]


def get(name):
    """The class called `name`; ValueError naming the classes there are otherwise."""
    if name not in BY_NAME:
        raise ValueError(f"no corpus class {name!r}: choose from {', '.join(names())}")
    return BY_NAME[name]


def build(name, seed=DEFAULT_SEED, scale=1.0):
    """The series of class `name` (canonical order) for `seed`, at `scale` (0 < scale <= 1)."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    return get(name).build(seed, scale)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write one corpus class as a file the importers read.")
    parser.add_argument("name", choices=names())
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", type=float, default=1.0, help="0 < scale <= 1 (default 1)")
    parser.add_argument("--format", choices=FORMATS, default="openmetrics")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not get(args.name).available():
        parser.error(f"{args.name} needs the package {get(args.name).package}")
    series_list = build(args.name, args.seed, args.scale)
    export_file(series_list, args.format, args.out)
    print(f"{args.name}: {total_points(series_list):,} points of {len(series_list):,} series as {args.format} "
          f"({args.out})")


if __name__ == "__main__":
    main()
