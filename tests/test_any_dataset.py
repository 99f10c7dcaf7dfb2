"""Every phase on any dataset a user can import: the whole pipeline, in process, on datasets of
every shape, fed through the CSV importer as a user's file would be.

Shapes: only counters, only gauges, one series, one point, series shorter than a bucket, all-NaN
series, duplicate and decreasing timestamps, names and labels in any script, spans of years, one
bucket per series. Each run must verify every phase, raise nothing, and print a table whose rows
agree with the JSON rows and with the data.
"""
import contextlib
import csv
import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lib.data.dataset import load_dataset_for_phase, total_points
from lib.report.table import format_table, write_json_rows
from lib.retention.projection import workload_of
from lib.rollup.kinds import COUNTER, GAUGE, metric_kind
from tests.conftest import phase_module, run_script

main = phase_module("main.py")

START_S = 1_600_000_000
NAME_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
names = st.text(NAME_ALPHABET, min_size=1, max_size=12).filter(lambda text: text.strip() == text and text)
label_values = st.text(NAME_ALPHABET, min_size=1, max_size=8)
finite_values = st.floats(allow_nan=False, allow_infinity=False, width=64) | st.integers(-10**6, 10**6).map(float)
gauge_values = finite_values | st.just(math.nan) | st.sampled_from([math.inf, -math.inf, -0.0])


@st.composite
def timestamps(draw, count):
    """Seconds (with ms) in time order or not: regular, jittered, repeated, decreasing, years apart."""
    shape = draw(st.sampled_from(["regular", "jittered", "repeated", "decreasing", "years", "random"]))
    step = draw(st.sampled_from([1, 10, 15, 60, 3600]))
    start = START_S + draw(st.integers(0, 10**6))
    if shape == "regular":
        seconds = [start + i * step for i in range(count)]
    elif shape == "jittered":
        seconds = [start + i * step + draw(st.integers(-3, 3)) / 1000 for i in range(count)]
    elif shape == "repeated":
        seconds = sorted(start + draw(st.integers(0, 3)) * step for _ in range(count))
    elif shape == "decreasing":
        seconds = [start - i * step for i in range(count)]
    elif shape == "years":
        seconds = sorted(start + draw(st.integers(-10**9, 10**9)) for _ in range(count))
    else:
        seconds = [start + draw(st.integers(0, 10**5)) for _ in range(count)]
    return seconds


@st.composite
def one_series(draw, kind):
    count = draw(st.integers(1, 40))
    seconds = draw(timestamps(count))
    if kind == COUNTER:
        values, total = [], float(draw(st.integers(0, 1000)))
        for _ in range(count):
            total = 0.0 if draw(st.integers(0, 9)) == 0 else total + draw(st.integers(0, 50))
            values.append(total)
        name = draw(names) + "_total"
    elif draw(st.booleans()):
        values, name = [math.nan] * count, draw(names)  # a stale series: nothing but NaN
    else:
        values, name = draw(st.lists(gauge_values, min_size=count, max_size=count)), draw(names)
    labels = draw(st.dictionaries(st.sampled_from(["host", "région", "实例"]), label_values, max_size=2))
    return name, labels, seconds, values


@st.composite
def datasets(draw):
    mix = draw(st.sampled_from([(COUNTER,), (GAUGE,), (COUNTER, GAUGE)]))
    series = draw(st.lists(st.sampled_from(mix).flatmap(one_series), min_size=1, max_size=4,
                           unique_by=lambda s: (s[0], tuple(sorted(s[1].items())))))
    return series


def write_long_csv(path, series):
    label_names = sorted({key for _name, labels, _s, _v in series for key in labels})
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "metric", "value", *label_names])
        for name, labels, seconds, values in series:
            for second, value in zip(seconds, values):
                writer.writerow([f"{second:.3f}", name, repr(value), *(labels.get(k, "") for k in label_names)])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(series=datasets())
@example(series=[("0", {}, [1_599_999_899, 1_599_999_899, 1_600_000_000], [0.0, 1.0, 2e25])])  # error of 1e27 %
def test_every_phase_runs_and_verifies_on_any_imported_dataset(tmp_path_factory, series):
    folder = tmp_path_factory.mktemp("any")
    write_long_csv(folder / "own.csv", series)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        results, stopped = main.run_all(folder / "out", "small", 1, import_paths=[folder / "own.csv"],
                                        reference=False)
        rows = main.print_comparison(results)
    assert stopped is None, stopped
    dataset = load_dataset_for_phase(folder / "out")
    points = total_points(dataset)
    assert [r.phase for r in results] == [0, 1, 2, 3, 4, 5] and all(r.verified for r in results)
    assert all(row["points"] == points for row in rows if row["phase"] != 5)
    assert all(row["bytes"] == (folder / "out" / row["file"]).stat().st_size for row in rows if row["phase"] != 5)
    check_phase_5_row(rows[-1], dataset, folder / "out")
    check_table_matches_json(rows, folder / "rows.json")
    text = out.getvalue()
    assert "Traceback" not in text
    assert [line for line in text.splitlines() if len(line) > 120] == []
    kinds = {metric_kind(s.name, s.values) for s in dataset}
    if GAUGE not in kinds:
        assert "No gauge series" in text and "No gauge series in this dataset, so no max" in text
    if COUNTER not in kinds:
        assert "No counter series in this dataset, so no increase" in text


def check_phase_5_row(row, dataset, output_dir):
    """The row projects the workload its report names, or (no workload) holds the roll-up files."""
    on_disk = sum(p.stat().st_size for p in output_dir.glob("05_rollup_*.bin"))
    workload = workload_of(dataset)
    if row["projected"]:
        assert row["on_disk_bytes"] == on_disk
        assert row["workload"] == {"series": workload.series, "interval_s": workload.interval_s}
        assert row["points"] == round(workload.points_per_day() * 365)
        assert row["file"] == str(workload) and row["storage_over_time"]["series"] == workload.series
        assert str(workload) in row["note"] and f"{row['points']:,} points" in row["note"]
    else:
        assert workload is None or workload.interval_s >= 365 * 86400
        assert row["bytes"] == on_disk and row["points"] == total_points(dataset)
    assert row["lossy"] and row["verified"]


def check_table_matches_json(rows, json_path):
    """Each line of the printed table is the row of the same phase in --json."""
    write_json_rows(rows, json_path)
    loaded = json.loads(Path(json_path).read_text(encoding="utf-8"))
    lines = format_table(loaded).splitlines()[2:2 + len(loaded)]
    for line, row in zip(lines, loaded):
        cells = line.split()
        assert cells[0] == str(row["phase"]) and row["file"] in line and f"{row['bytes_per_point']:.2f}" in cells


def test_a_refused_phase_still_prints_the_table_and_exits_2_with_one_line(tmp_path):
    # Timestamps within an hour of the int64 limit (2262-04-11T23:47:16Z) cannot be bucketed by the
    # hourly level: phase 5 refuses, the table shows phases 0 to 4, and the page is this run's.
    (tmp_path / "late.csv").write_text("timestamp,value\n2262-04-11T23:00:00Z,1.5\n2262-04-11T23:00:15Z,2.5\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.html").write_text("an older run's page")
    result = run_script("main.py", "--import", tmp_path / "late.csv", "--output-dir", tmp_path / "out",
                        "--no-reference")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: 05_downsampling_storage.py failed:")
    assert "int64 limits" in result.stderr
    table = result.stdout.split("Comparison")[1]
    assert [line.split()[0] for line in table.splitlines()[3:8]] == ["0", "1", "2", "3", "4"]
    assert "an older run's page" not in (tmp_path / "out" / "report.html").read_text()


def test_an_import_that_fails_leaves_no_page_of_the_previous_dataset(tmp_path):
    assert run_script("main.py", "--output-dir", tmp_path, "--series", "3", "--points", "300",
                      "--no-reference").returncode == 0
    assert (tmp_path / "report.html").exists()
    (tmp_path / "bad.csv").write_text("timestamp,value\nyesterday,1\n")
    result = run_script("main.py", "--import", tmp_path / "bad.csv", "--output-dir", tmp_path, "--no-reference")
    assert result.returncode == 2 and "unparseable timestamp" in result.stderr
    assert not (tmp_path / "report.html").exists()



USERS_FILES = {
    "counter_only": "timestamp,metric,value,site\n" + "".join(
        f"{1717200000 + 30 * i},jobs_done_total,{(i * 7) % 13 + 10 * (i % 900)},x\n" for i in range(2000)),
    "gauge_only": "timestamp,metric,value,site\n" + "".join(
        f"{1717200000 + 30 * i},tank_level_litres,{1000 - (i % 400) * 0.25},x\n" for i in range(2000)),
    "one_series": "timestamp,value\n" + "".join(f"{1717200000 + 60 * i},{i % 17}\n" for i in range(500)),
    "one_point": "timestamp,value\n1717200000,3.5\n",
}


@pytest.mark.parametrize("name", USERS_FILES)
def test_main_on_a_users_own_csv_ends_with_the_table_every_row_verified(tmp_path, name):
    (tmp_path / f"{name}.csv").write_text(USERS_FILES[name])
    result = run_script("main.py", "--import", tmp_path / f"{name}.csv", "--output-dir", tmp_path / "out",
                        "--no-reference")
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("Comparison")[1].split("\n\n")[0].splitlines()[3:]
    rows = [line for line in table if line[:1].isdigit()]
    assert [row.split()[0] for row in rows] == ["0", "1", "2", "3", "4", "5"]
    assert all(row.rstrip().endswith("✓") for row in rows) and "Traceback" not in result.stderr
