"""Phase 5 as a user runs it: a stale phase-4 file, checks before files move into place, its report."""
import numpy as np
import pytest

from lib.data.dataset import Series, load_dataset_for_phase, save_dataset
from lib.errors import RoundTripError
from lib.retention.projection import Workload
from lib.runner.provenance import PROVENANCE_FILENAME
from lib.plumbing.output_lock import LOCK_FILENAME
from lib.rollup.kinds import LIGHT_FIELDS, STORED_FIELDS
from lib.storage.metrics_file import MetricsFile
from lib.storage.rollup_files import read_rollups, rollup_filename
from tests.conftest import phase_module, run_script

phase5 = phase_module("05_downsampling_storage.py")


@pytest.fixture
def small_run(tmp_path):
    args = ("--output-dir", tmp_path, "--series", "6", "--points", "3000")
    assert run_script("00_generate_data.py", *args).returncode == 0
    assert run_script("04_custom_binary_format.py", "--output-dir", tmp_path).returncode == 0
    return tmp_path


def test_phase_5_refuses_a_phase_4_file_with_the_same_series_but_other_values(small_run):
    # Found by an adversarial pass: values x10, same names and counts, and phase 5 answered from them.
    series_list = load_dataset_for_phase(small_run)
    save_dataset([Series(s.name, s.labels, s.timestamps, s.values * 10) for s in series_list],
                 small_run / "00_dataset.bin")
    assert run_script("04_custom_binary_format.py", "--output-dir", small_run).returncode == 0
    save_dataset(series_list, small_run / "00_dataset.bin")  # the dataset back, the phase-4 file stale
    result = run_script("05_downsampling_storage.py", "--output-dir", small_run)
    assert result.returncode == 2, result.stdout
    assert "another dataset" in result.stderr and "Traceback" not in result.stderr


def test_a_level_that_fails_its_check_never_replaces_the_previous_file(small_run, monkeypatch):
    phase5.run(small_run)
    finest = small_run / rollup_filename(60 * 10**9)
    before = finest.read_bytes()
    original_read = MetricsFile.read_series

    def read_with_one_bit_flipped(metrics_file, name, labels=None):
        series = original_read(metrics_file, name, labels)
        series.values.view(np.uint64)[-1:] ^= 1
        return series

    monkeypatch.setattr(MetricsFile, "read_series", read_with_one_bit_flipped)
    with pytest.raises(RoundTripError):
        phase5.run(small_run)
    assert finest.read_bytes() == before
    temporary = [p for p in small_run.iterdir()
                 if p.name.startswith(".") and p.name not in (LOCK_FILENAME, PROVENANCE_FILENAME)]
    assert not temporary


def test_phase_5_row_is_a_projected_lossy_year_and_its_report_says_so(small_run, capsys):
    result = phase5.run(small_run)
    out = capsys.readouterr().out
    assert result.projected and result.lossy and result.verified
    assert result.on_disk_bytes == sum(p.stat().st_size for p in small_run.glob("05_rollup_*.bin"))
    assert result.points > sum(len(s) for s in load_dataset_for_phase(small_run))  # a year, not these hours
    for text in ("Projected storage", "Assumptions:", "largest error against raw", "x smaller", "Retention policy"):
        assert text in out
    table = out.split("The same hours at each level")[1].split("  B/bucket =")[0].splitlines()[2:]
    assert table and all(line.endswith(("x smaller", "x larger")) for line in table)  # each says its direction


def test_the_docstring_names_every_aggregate_a_level_keeps():
    doc = phase5.__doc__
    for fields in (*STORED_FIELDS.values(), *LIGHT_FIELDS.values()):
        for field in fields:
            assert field in doc, field


def test_bad_retention_policy_is_one_line_and_exit_2(small_run):
    result = run_script("05_downsampling_storage.py", "--output-dir", small_run, "--retention", "raw=7d,1h=1d")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]  # argparse's usage, then one error line
    assert "--retention" in last_line and "at least as long" in last_line


def test_files_of_levels_the_policy_does_not_have_are_removed(small_run):
    stale = small_run / rollup_filename(15 * 60 * 10**9)
    stale.write_bytes(b"an earlier run's 15-minute level")
    assert run_script("05_downsampling_storage.py", "--output-dir", small_run, "--retention", "raw=7d,1m=30d").returncode == 0
    assert sorted(p.name for p in small_run.glob("05_rollup_*.bin")) == [rollup_filename(60 * 10**9)]


def test_apply_retention_from_the_command_line_drops_expired_buckets(small_run):
    policy = "raw=10m,1m=10m,5m=20m,1h=1d"
    result = run_script("05_downsampling_storage.py", "--output-dir", small_run, "--retention", policy,
                        "--apply-retention")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("retention: ")]
    assert [line.split(":")[1].strip() for line in lines] == ["05_rollup_1m.bin", "05_rollup_5m.bin", "05_rollup_1h.bin"]
    newest = max(int(s.timestamps.max()) for s in load_dataset_for_phase(small_run))
    for minutes in (1, 5):
        width = minutes * 60 * 10**9
        for rollup in read_rollups(small_run / rollup_filename(width), width):
            assert np.all(rollup.bucket_start + width > newest - {1: 10, 5: 20}[minutes] * 60 * 10**9)
    assert "dropped 0 " not in lines[0]  # the data spans hours: 10 minutes of 1m buckets keep few


@pytest.mark.parametrize("policy, level_ns", [("raw=1d,7m=2d", 7 * 60 * 10**9), ("raw=7d,2h=1y", 2 * 3600 * 10**9)])
def test_a_policy_whose_levels_do_not_tile_an_hour_still_runs(small_run, policy, level_ns):
    result = run_script("05_downsampling_storage.py", "--output-dir", small_run, "--retention", policy)
    assert result.returncode == 0, result.stderr
    assert (small_run / rollup_filename(level_ns)).exists()
    timing = result.stdout.split("largest error against raw\n")[1].splitlines()[1:]
    rows = [line.split()[0] for line in timing[:next(i for i, line in enumerate(timing) if not line.startswith("    "))]]
    assert rows == ["raw"]  # only raw answers per hour


def counter_block_offset(path):
    """Where the first block of the first counter series lies in a METRICS! file."""
    with MetricsFile(path) as f:
        entry = next(e for e in f.series if e.name.endswith("_total"))
        return f.data_offset + entry.blocks[0].offset


def test_a_damaged_counter_block_is_refused_with_one_line(small_run):
    # Phase 5 used to read back gauges only: a damaged counter block passed with exit 0.
    path = small_run / "04_metrics.bin"
    data = bytearray(path.read_bytes())
    data[counter_block_offset(path) + 12] ^= 0x10
    path.write_bytes(data)
    result = run_script("05_downsampling_storage.py", "--output-dir", small_run)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "checksum mismatch" in result.stderr and "_total" in result.stderr


def test_a_phase_4_file_whose_counters_alone_differ_is_refused(small_run):
    series_list = load_dataset_for_phase(small_run)
    changed = [Series(s.name, s.labels, s.timestamps, s.values + (1 if s.name.endswith("_total") else 0))
               for s in series_list]
    save_dataset(changed, small_run / "00_dataset.bin")
    assert run_script("04_custom_binary_format.py", "--output-dir", small_run).returncode == 0
    save_dataset(series_list, small_run / "00_dataset.bin")
    result = run_script("05_downsampling_storage.py", "--output-dir", small_run)
    assert result.returncode == 2 and "another dataset" in result.stderr and "_total" in result.stderr


def test_the_missing_phase_4_hint_names_the_output_folder(small_run):
    (small_run / "04_metrics.bin").unlink()
    result = run_script("05_downsampling_storage.py", "--output-dir", small_run)
    assert result.returncode == 2
    assert f"run `python 04_custom_binary_format.py --output-dir {small_run}` first" in result.stderr


def test_the_row_and_the_report_project_the_same_named_workload(small_run, capsys):
    result = phase5.run(small_run, workload=Workload(1000, 30))
    out = capsys.readouterr().out
    assert "Projected storage for 1,000 series every 30 s" in " ".join(out.split())
    assert result.file_label == "1,000 series every 30 s" and result.points == 1000 * 2880 * 365
    assert result.workload == {"series": 1000, "interval_s": 30} and "1,000 series every 30 s" in result.note
    assert result.storage_over_time["series"] == 1000


def test_a_counter_only_dataset_runs_and_says_what_it_cannot_show(tmp_path, capsys):
    ts = np.arange(600, dtype=np.int64) * 15 * 10**9
    save_dataset([Series("jobs_total", {"site": "x"}, ts, np.cumsum(np.ones(600)))], tmp_path / "00_dataset.bin")
    phase_module("04_custom_binary_format.py").run(tmp_path)
    assert phase5.run(tmp_path).verified
    out = " ".join(capsys.readouterr().out.split())
    assert "No gauge series: the long-range questions" in out and "No gauge holds a finite value" in out
    assert "No gauge series in this dataset, so no max to look up" in out and "increase of the counter jobs_total" in out
