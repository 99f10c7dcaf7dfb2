"""benchmarks/compare_tsdbs.py without the databases: the rules that skip a dataset, the outcomes of
a run with stand-in programs (not installed, skipped, refused by the ingest format, failed), the
report and the command line. The run against the real databases is at the end, and only where they
are installed and SQUEEZED_SIGNALS_TSDB_E2E=1 asks for it."""
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks import tsdb_systems
from benchmarks.peer_datasets import Dataset
from benchmarks.tsdb_influxdb import InfluxDB
from benchmarks.tsdb_prometheus import BLOCK_NS, Prometheus
from benchmarks.tsdb_report import format_report
from benchmarks.tsdb_systems import (
    FAILED, MEASURED, NOT_INSTALLED, SKIPPED, Outcome, floored_to_ms, month_count, partition_count,
    run_system,
)
from benchmarks.tsdb_victoriametrics import VictoriaMetrics
from lib.data.dataset import DAY_NS, PROJECT_ROOT, Series
from lib.data.generator import generate_dataset
from tests.conftest import INT64_MIN

MONDAY = 1_704_067_200 * 10**9  # 2024-01-01 00:00 UTC, a Monday
SCRIPT = PROJECT_ROOT / "benchmarks" / "compare_tsdbs.py"
VERSIONS = {
    "promtool": "promtool, version 9.1.0+ds (branch: test)",
    "victoria-metrics": "victoria-metrics-20990101-000000-tags-v9.2.0-0-gabcdef",
    "influxd": "InfluxDB v9.3.0 (git: test)",
}


def load_compare_tsdbs():
    spec = importlib.util.spec_from_file_location("compare_tsdbs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ct = load_compare_tsdbs()


def one(timestamps, values=None, name="m"):
    timestamps = np.array(timestamps, dtype=np.int64)
    return Series(name, {"host": "a"}, timestamps, np.ones(len(timestamps)) if values is None else values)


def stand_in_programs(folder, failing=()):
    """Executables with the databases' names that print a version, or fail with a message."""
    folder.mkdir(exist_ok=True)
    for program, version in VERSIONS.items():
        script = folder / program
        body = f"echo 'it went wrong: {program}' >&2; exit 1" if program in failing else f"echo '{version}'"
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    return folder


# The rules that skip a dataset

def test_points_before_1970_are_refused_by_prometheus_and_victoriametrics_only():
    dataset = [one([-1, 5])]
    assert "1 points are before 1970" in Prometheus().cannot_hold(dataset)
    assert "promtool drops without a word" in Prometheus().cannot_hold(dataset)
    assert "refuses" in VictoriaMetrics().cannot_hold(dataset)
    assert InfluxDB().cannot_hold(dataset) is None


def test_influxdb_weekly_shards_start_on_mondays():
    week = 7 * DAY_NS
    assert partition_count([one([MONDAY - 1, MONDAY])], week, 3 * DAY_NS) == 2
    assert partition_count([one([MONDAY, MONDAY + week - 1])], week, 3 * DAY_NS) == 1
    assert partition_count([one([]), one([MONDAY], name="n")], week, 3 * DAY_NS) == 1


def test_too_many_shards_or_an_out_of_range_time_is_refused_by_influxdb():
    weekly = MONDAY + np.arange(tsdb_systems.MAX_PARTITIONS, dtype=np.int64) * 7 * DAY_NS
    assert InfluxDB().cannot_hold([one(weekly)]) is None
    reason = InfluxDB().cannot_hold([one(np.append(weekly, weekly[-1] + 7 * DAY_NS))])
    assert "1,001 7-day shards, more than 1,000" in reason
    assert "outside InfluxDB's range" in InfluxDB().cannot_hold([one([INT64_MIN + 1, 0])])
    assert InfluxDB().cannot_hold([one([INT64_MIN + 2, 2**63 - 2])]) is None


def test_prometheus_blocks_are_counted_from_1970():
    assert BLOCK_NS == 39_366 * 3600 * 10**9
    assert partition_count([one([BLOCK_NS - 1, BLOCK_NS])], BLOCK_NS) == 2
    assert partition_count([one([BLOCK_NS, 2 * BLOCK_NS - 1])], BLOCK_NS) == 1


def test_victoriametrics_months_and_the_future():
    end_of_january = np.datetime64("2024-01-31T23:59:59.999999999").astype(np.int64)
    assert month_count([one([end_of_january, end_of_january + 1])]) == 2
    assert month_count([one([MONDAY, end_of_january])]) == 1
    ahead = time.time_ns() + 3 * DAY_NS
    assert "1 points are more than 2 days ahead" in VictoriaMetrics().cannot_hold([one([MONDAY, ahead])])


def test_floored_to_ms():
    floored, changed = floored_to_ms([one([1_000_000, 1_999_999, -1])])
    assert floored[0].timestamps.tolist() == [1_000_000, 1_000_000, -1_000_000] and changed == 2


# Runs with stand-in programs: every outcome but a measurement

def test_a_system_that_is_not_installed_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    outcome = run_system(Prometheus(), [one([MONDAY])], tmp_path, print)
    assert (outcome.status, outcome.reason) == (NOT_INSTALLED, "promtool not found; to include it: "
                                                               "apt-get install prometheus")


def test_versions_and_skips_with_stand_in_programs(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(stand_in_programs(tmp_path / "bin")))
    early = [one([-5, 5])]
    prometheus = run_system(Prometheus(), early, tmp_path, print)
    vm = run_system(VictoriaMetrics(), early, tmp_path, print)
    assert (prometheus.status, prometheus.version) == (SKIPPED, "9.1.0+ds")
    assert (vm.status, vm.version) == (SKIPPED, "v9.2.0-0-gabcdef")
    assert "before 1970" in prometheus.reason and "before 1970" in vm.reason


def test_what_an_ingest_format_cannot_carry_skips_the_system(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(stand_in_programs(tmp_path / "bin")))
    outcome = run_system(InfluxDB(), [one([MONDAY, MONDAY + 1], np.array([1.0, np.nan]))], tmp_path, print)
    assert (outcome.status, outcome.version) == (SKIPPED, "9.3.0")
    assert outcome.reason.startswith("its ingest format cannot carry the data: influx: m{host=\"a\"} point 1")
    assert not list(tmp_path.glob("dataset.*"))  # the refused export left no file


def test_a_program_that_fails_is_a_failed_row_quoting_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(stand_in_programs(tmp_path / "bin", failing=("promtool",))))
    outcome = run_system(Prometheus(), [one([MONDAY])], tmp_path, lambda _label: None)
    assert outcome.status == FAILED and "it went wrong: promtool" in outcome.reason


def test_a_server_that_exits_is_a_failed_row(tmp_path, monkeypatch):
    bin_folder = stand_in_programs(tmp_path / "bin")
    (bin_folder / "victoria-metrics").write_text("#!/bin/sh\necho 'cannot open storage' >&2\nexit 4\n")
    monkeypatch.setenv("PATH", str(bin_folder))
    outcome = run_system(VictoriaMetrics(), [one([MONDAY])], tmp_path, lambda _label: None)
    assert outcome.status == FAILED and "exited with code 4: cannot open storage" in outcome.reason


# The command line and the report

def test_without_the_databases_it_prints_how_to_install_them_and_succeeds(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    ct.main(["--series", "2", "--points", "60", "--json", str(tmp_path / "r.json")])  # no SystemExit: 0
    out = capsys.readouterr().out
    assert "METRICS! file" in out and "2 series, " in out
    for program, package in (("promtool", "prometheus"), ("victoria-metrics", "victoria-metrics"),
                             ("influxd", "influxdb")):
        assert f"not installed ({program} not found; to include it: apt-get install {package})" in out
    rows = json.loads((tmp_path / "r.json").read_text())["rows"]
    assert rows[0]["system"] == "METRICS! file" and rows[0]["exact"] is True
    assert rows[0]["ratio_vs_metrics_file"] == 1
    assert [r["status"] for r in rows[1:]] == [NOT_INSTALLED] * 3


def test_the_report_shows_counts_ratios_and_reasons():
    dataset = Dataset(generate_dataset(2, 40, seed=1), "tiny")
    metrics = Outcome("METRICS! file", "squeezed-signals", bytes=1000, partitions="1 file",
                      mismatches=tsdb_systems.Mismatches(expected=40, returned=40))
    vm = Outcome("VictoriaMetrics", "victoria-metrics", MEASURED, version="1.79", bytes=2500,
                 partitions="1 month", parts={"data": 2000, "indexdb": 500}, ingest_seconds=0.5,
                 mismatches=tsdb_systems.Mismatches(expected=40, returned=39, missing=1, other_bits=3,
                                                    max_relative_error=1e-12))
    skipped = Outcome("InfluxDB", "influxdb", SKIPPED, "no NaN in line protocol")
    text = format_report(dataset, [metrics, vm, skipped])
    line = next(row for row in text.splitlines() if row.startswith("VictoriaMetrics "))
    per_point = f"{2500 / dataset.points:.3f}"
    assert line.split() == ["VictoriaMetrics", "1.79", "2,500", per_point, "2.500", "no", "1", "0", "0", "0",
                            "3", "0", "0.50", "1", "month"]
    assert "VictoriaMetrics: counted data 2,000, indexdb 500 bytes" in text
    assert "largest relative error of a changed value: 1e-12" in text
    assert "InfluxDB: skipped: no NaN in line protocol" in text


@pytest.mark.parametrize("argv, message", [
    (["--systems", "prometheus,mysql"], "unknown system(s) mysql"),
    (["--real", "--import", "x.csv"], "--real and --import are alternatives"),
    (["--corpus", "no_such_class"], "unknown corpus class"),
    (["--scale", "0.5"], "--scale only goes with --corpus"),
])
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        ct.parse_args(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


# Against the real databases: only on request

PROGRAMS = ("promtool", "victoria-metrics", "influxd")
E2E_VARIABLE = "SQUEEZED_SIGNALS_TSDB_E2E"
missing = [p for p in PROGRAMS if shutil.which(p) is None]
e2e = pytest.mark.skipif(
    os.environ.get(E2E_VARIABLE) != "1" or bool(missing),
    reason=(f"needs {', '.join(missing)} (apt-get install prometheus victoria-metrics influxdb)" if missing
            else f"runs the real databases only when {E2E_VARIABLE}=1"),
)


def processes_mentioning(text):
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


def run_in(tmp_path, *args):
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(scratch))
    argv = [sys.executable, str(SCRIPT), *map(str, args)]
    return scratch, subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)


@e2e
def test_every_database_on_a_small_dataset(tmp_path):
    scratch, process = run_in(tmp_path, "--series", "4", "--points", "2000", "--json", tmp_path / "r.json")
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    rows = {r["system"]: r for r in json.loads((tmp_path / "r.json").read_text())["rows"]}
    assert all(r["status"] == MEASURED and r["bytes"] > 0 for r in rows.values()), rows
    assert rows["Prometheus"]["exact"] and rows["InfluxDB"]["exact"] and rows["METRICS! file"]["exact"]
    assert rows["VictoriaMetrics"]["mismatches"]["missing"] == 0
    assert list(scratch.iterdir()) == [] and processes_mentioning(str(scratch)) == []


@e2e
def test_ctrl_c_while_a_server_runs_leaves_nothing_behind(tmp_path):
    scratch, process = run_in(tmp_path, "--series", "20", "--points", "100000",
                              "--systems", "victoriametrics")
    deadline = time.monotonic() + 120
    while not [p for p in processes_mentioning(str(scratch)) if p != str(process.pid)]:
        assert process.poll() is None and time.monotonic() < deadline, "no server was started"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "interrupted" in err
    assert processes_mentioning(str(scratch)) == [] and list(scratch.iterdir()) == []
