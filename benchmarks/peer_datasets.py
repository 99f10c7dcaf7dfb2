"""The datasets of benchmarks/compare_peers.py: generated as phase 0 does, imported, real time
series that packages ship (`--real`), and the classes of the benchmark corpus (`--corpus`).
"""
import csv
import datetime
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from benchmarks.peers import INSTALL_HINT
from lib.data import generator, importers
from lib.data.dataset import total_points
from lib.errors import SqueezedSignalsError


@dataclass
class Dataset:
    series: list
    description: str
    details: list = field(default_factory=list)

    @property
    def points(self):
        return total_points(self.series)


def generated_dataset(size, seed, series=None, points=None):
    """The dataset `00_generate_data.py` makes with the same options."""
    default_series, default_points = generator.SIZES[size]
    series = default_series if series is None else series
    points = default_points if points is None else points
    series_list = generator.generate_dataset(series, points, seed)
    return Dataset(series_list, f"generated (size {size}, seed {seed})")


def imported_dataset(paths, fmt=None, description=None):
    """The dataset `00_generate_data.py --import` makes from the same files."""
    result = importers.import_paths(paths, fmt)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    files = ", ".join(Path(f).name for f in result.files)
    return Dataset(result.series, description or f"imported from {files}")


@dataclass(frozen=True)
class VegaFile:
    """How one CSV file shipped in a package becomes series in the long CSV that lib.data.importers reads."""
    name: str  # path inside the package's data folder
    date_format: str  # strptime format of its date column
    metrics: dict = field(default_factory=dict)  # value column -> metric name
    labels: dict = field(default_factory=dict)  # fixed labels for all its series
    label_column: Optional[str] = None  # a column whose cell becomes a label of the same name
    wide_metric: Optional[str] = None  # every non-date column is this metric, labelled sector=<column>
    date_column: Optional[str] = None  # default: the first of date, month, year
    package: str = "vega_datasets"


VEGA_FILES = (
    VegaFile("seattle-temps.csv", "%Y/%m/%d %H:%M", {"temp": "temperature_fahrenheit"}, {"city": "seattle"}),
    VegaFile("sf-temps.csv", "%Y/%m/%d %H:%M:%S", {"temp": "temperature_fahrenheit"}, {"city": "san_francisco"}),
    VegaFile("seattle-weather.csv", "%Y/%m/%d",
             {"precipitation": "weather_precipitation", "temp_max": "weather_temp_max",
              "temp_min": "weather_temp_min", "wind": "weather_wind"}, {"city": "seattle"}),
    VegaFile("stocks.csv", "%b %d %Y", {"price": "stock_price"}, label_column="symbol"),
    VegaFile("iowa-electricity.csv", "%Y-%m-%d", {"net_generation": "iowa_net_generation"},
             label_column="source"),
    VegaFile("us-employment.csv", "%Y-%m-%d", wide_metric="us_employment_thousands"),
)
# Optional: read straight from the installed package's data folder (statsmodels is not imported).
STATSMODELS_FILES = (
    VegaFile("co2/co2.csv", "%Y%m%d", {"co2": "co2_ppm"}, {"site": "mauna_loa"}, date_column="date",
             package="statsmodels"),
    VegaFile("elec_equip/elec_equip.csv", "%b-%d-%Y",
             {"STS.M.I7.W.TOVT.NS0016.4.000": "electrical_equipment_orders_index"}, {"region": "euro_area"},
             date_column="DATE", package="statsmodels"),
    VegaFile("sunspots/sunspots.csv", "%Y", {"SUNACTIVITY": "sunspot_activity"}, date_column="YEAR",
             package="statsmodels"),
    VegaFile("nile/nile.csv", "%Y", {"volume": "nile_flow_volume"}, date_column="year", package="statsmodels"),
)
PACKAGE_DATA_FOLDERS = {"vega_datasets": "_data", "statsmodels": "datasets", "pvlib": "data"}
VEGA_DESCRIPTION = (
    "real data from vega_datasets: hourly temperatures of Seattle and San Francisco (2010), "
    "daily Seattle weather (2012-2015), monthly stock prices (2000-2010), monthly US employment "
    "by sector (2006-2015), yearly Iowa electricity generation (2001-2017)"
)
STATSMODELS_DESCRIPTION = (
    "; and from statsmodels: weekly Mauna Loa CO2 (1958-2001, with gaps), monthly euro-area "
    "electrical equipment orders (1995-2005), yearly sunspots (1700-2008) and Nile flow (1871-1970)"
)


def package_data_folder(package="vega_datasets"):
    """The folder of CSV files an installed package ships, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SqueezedSignalsError(f"--real needs the {package} package: {INSTALL_HINT}")
    folder = Path(list(spec.submodule_search_locations)[0]) / PACKAGE_DATA_FOLDERS[package]
    if not folder.is_dir():
        raise SqueezedSignalsError(f"{package} has no local data folder at {folder}")
    return folder


def vega_points(spec, rows):
    """(timestamp, metric, value text, labels) for every number in a vega file's rows."""
    date_column = spec.date_column or next(c for c in ("date", "month", "year") if c in rows[0])
    for row in rows:
        moment = datetime.datetime.strptime(row[date_column], spec.date_format)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # vega's local times, read as UTC
        labels = dict(spec.labels)
        if spec.label_column:
            labels[spec.label_column] = row[spec.label_column]
        if spec.wide_metric:
            for column in row:
                if column != date_column:
                    yield stamp, spec.wide_metric, row[column], {**labels, "sector": column}
        for column, metric in spec.metrics.items():
            if row[column].strip():  # an empty cell is a gap: no point
                yield stamp, metric, row[column], labels


def write_vega_long_csv(spec, source, target):
    """Rewrite one vega CSV as `timestamp,metric,value,dataset,<labels>`; returns the point count.

    Values are copied as text, so lib.data.importers parses them exactly as it parses any CSV.
    """
    with open(source, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    points = list(vega_points(spec, rows))
    label_names = sorted({name for *_rest, labels in points for name in labels})
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "metric", "value", "dataset", *label_names])
        for stamp, metric, value, labels in points:
            writer.writerow([stamp, metric, value.strip(), Path(spec.name).stem.replace("-", "_"),
                             *(labels.get(name, "") for name in label_names)])
    return len(points)


def real_dataset(folder):
    """Convert the packages' real time series to long CSV files in `folder` and import them:
    vega_datasets (required), statsmodels (used when installed)."""
    specs, description = list(VEGA_FILES), VEGA_DESCRIPTION
    sources = [package_data_folder("vega_datasets")]
    if importlib.util.find_spec("statsmodels") is not None:
        specs += STATSMODELS_FILES
        description += STATSMODELS_DESCRIPTION
        sources.append(package_data_folder("statsmodels"))
    details = []
    for spec in specs:
        target = Path(folder) / Path(spec.name).name
        points = write_vega_long_csv(spec, package_data_folder(spec.package) / spec.name, target)
        details.append(f"{spec.package}/{spec.name}: {points:,} points")
    dataset = imported_dataset([folder], "csv-long", description + ": weather, science and economics, "
                               "not server metrics")
    dataset.details = [f"source folders: {', '.join(map(str, sources))}"] + details
    return dataset



def corpus_dataset(klass, seed, scale=1.0):
    """Class `klass` of benchmarks/corpus.py as a Dataset, described by its exporter."""
    description = f"corpus class {klass.name} (seed {seed}, scale {scale:g}): {klass.summary}"
    return Dataset(klass.build(seed, scale), description)
