"""Phase 5 as a user runs it: a stale phase-4 file, checks before files move into place, its report."""
import numpy as np
import pytest

from lib.data.dataset import Series, load_dataset_for_phase, save_dataset
from lib.errors import RoundTripError
from lib.plumbing.output_lock import LOCK_FILENAME
from lib.rollup.kinds import LIGHT_FIELDS, STORED_FIELDS
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
    original_read = phase5.read_column

    def read_with_one_bit_flipped(metrics_file, column):
        series = original_read(metrics_file, column)
        series.values.view(np.uint64)[-1:] ^= 1
        return series

    monkeypatch.setattr(phase5, "read_column", read_with_one_bit_flipped)
    with pytest.raises(RoundTripError):
        phase5.run(small_run)
    assert finest.read_bytes() == before
    temporary = [p for p in small_run.iterdir() if p.name.startswith(".") and p.name != LOCK_FILENAME]
    assert not temporary


def test_phase_5_row_is_a_projected_lossy_year_and_its_report_says_so(small_run, capsys):
    result = phase5.run(small_run)
    out = capsys.readouterr().out
    assert result.projected and result.lossy and result.verified
    assert result.on_disk_bytes == sum(p.stat().st_size for p in small_run.glob("05_rollup_*.bin"))
    assert result.points > sum(len(s) for s in load_dataset_for_phase(small_run))  # a year, not these hours
    for text in ("Projected storage", "Assumptions:", "speed-up", "largest error against raw", "x smaller",
                 "Retention policy"):
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
    timing = result.stdout.split("largest error against raw")[1].split("error = ")[0]
    assert [line.split()[0] for line in timing.strip().splitlines()[1:]] == ["raw"]  # only raw answers per hour
