"""Regression tests for the defects an adversarial pass found (issue 13): huge sizes, special
files, concurrent runs, misleading messages."""
import os

import pytest

from lib.data import generator
from lib.plumbing.output_lock import locked_output_dir
from tests.conftest import run_script


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("script, args, limit", [
    ("00_generate_data.py", ["--points", "99999999999999999999999"], generator.MAX_POINTS),
    ("main.py", ["--series", "1", "--points", "10000000000"], generator.MAX_POINTS),
    ("main.py", ["--series", "99999999999999999999999"], generator.MAX_SERIES),
    ("main.py", ["--series", "100000000", "--points", "10"], generator.MAX_SERIES),
    ("00_generate_data.py", ["--seed", "-1"], "--seed must be 0 or more"),
])
def test_huge_sizes_are_refused_up_front_naming_the_limit(tmp_path, script, args, limit):
    result = run_script(script, "--output-dir", tmp_path, *args, timeout=30)
    assert_one_line_error(result, limit if isinstance(limit, str) else f"{limit:,}")
    assert not (tmp_path / "00_dataset.bin").exists()


def test_the_big_size_stays_within_the_limits():
    series, points = generator.SIZES["big"]
    generator.check_sizes(series, points)
    with pytest.raises(ValueError, match="at most"):
        generator.check_sizes(series, generator.MAX_POINTS + 1)
    with pytest.raises(ValueError, match="at most"):
        generator.check_sizes(generator.MAX_SERIES + 1, points)
    with pytest.raises(ValueError, match="at most"):
        generator.generate_dataset(generator.MAX_SERIES + 1, 10)


@pytest.mark.parametrize("extra", [["--format", "csv"], []])
def test_importing_a_device_is_refused_not_read_forever(tmp_path, extra):
    result = run_script("00_generate_data.py", "--output-dir", tmp_path, "--import", "/dev/zero", *extra, timeout=30)
    assert_one_line_error(result, "/dev/zero", "character device")


def test_importing_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    pipe = tmp_path / "metrics.csv"
    os.mkfifo(pipe)
    result = run_script("00_generate_data.py", "--output-dir", tmp_path / "out", "--import", pipe, timeout=30)
    assert_one_line_error(result, str(pipe), "named pipe")
    result = run_script("00_generate_data.py", "--output-dir", tmp_path / "out", "--import", tmp_path, timeout=30)
    assert_one_line_error(result, "named pipe")


def test_importing_through_a_symlink_to_a_regular_file_works(tmp_path):
    (tmp_path / "real.csv").write_text("timestamp,value\n1700000000,1.5\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    result = run_script("00_generate_data.py", "--output-dir", tmp_path / "out", "--import", tmp_path / "link.csv")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("given", ["folder", "folder/loop.csv"])
def test_importing_a_symbolic_link_loop_is_one_line_not_a_traceback(tmp_path, given):
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "loop.csv").symlink_to("loop.csv")
    result = run_script("00_generate_data.py", "--output-dir", tmp_path / "out", "--import", tmp_path / given)
    assert_one_line_error(result, str(tmp_path / "folder" / "loop.csv"), "symbolic link loop")


@pytest.mark.parametrize("script", ["02_columnar_storage.py", "03_compressed_columnar.py"])
def test_a_dataset_that_is_a_symlink_to_a_device_is_refused(tmp_path, script):
    (tmp_path / "00_dataset.bin").symlink_to("/dev/zero")
    result = run_script(script, "--output-dir", tmp_path, timeout=30)
    assert_one_line_error(result, "00_dataset.bin", "character device")


def test_a_dataset_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "00_dataset.bin").mkdir()
    result = run_script("02_columnar_storage.py", "--output-dir", tmp_path, timeout=30)
    assert_one_line_error(result, "00_dataset.bin", "folder")


def test_an_output_dir_that_is_a_file_is_named_as_such(tmp_path):
    (tmp_path / "out").write_text("a file")
    for script in ("00_generate_data.py", "02_columnar_storage.py"):
        result = run_script(script, "--output-dir", tmp_path / "out")
        assert_one_line_error(result, str(tmp_path / "out"), "not a folder")


def test_json_to_a_folder_names_the_folder_not_a_temp_file(tmp_path):
    (tmp_path / "rows").mkdir()
    result = run_script("main.py", "--output-dir", tmp_path / "out", "--series", "2", "--points", "40",
                        "--no-reference", "--json", tmp_path / "rows")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert str(tmp_path / "rows") in last and ".tmp" not in last and "Traceback" not in result.stderr


def test_a_folder_where_a_phase_file_goes_is_named(tmp_path):
    assert run_script("00_generate_data.py", "--output-dir", tmp_path, "--series", "2", "--points", "40").returncode == 0
    (tmp_path / "03_compressed_columnar.msgpack").mkdir()
    result = run_script("03_compressed_columnar.py", "--output-dir", tmp_path)
    assert_one_line_error(result, str(tmp_path / "03_compressed_columnar.msgpack"), "directory")
    assert ".tmp" not in result.stderr


@pytest.mark.parametrize("script", ["00_generate_data.py", "main.py", "01_ndjson_storage.py", "02_columnar_storage.py",
                                    "03_compressed_columnar.py", "04_custom_binary_format.py"])
def test_a_second_run_in_a_busy_output_folder_stops_with_one_line(tmp_path, script):
    assert run_script("00_generate_data.py", "--output-dir", tmp_path, "--series", "2", "--points", "40").returncode == 0
    before = (tmp_path / "00_dataset.bin").read_bytes()
    with locked_output_dir(tmp_path):
        result = run_script(script, "--output-dir", tmp_path, "--seed", "7") if script in ("00_generate_data.py", "main.py") \
            else run_script(script, "--output-dir", tmp_path)
    assert_one_line_error(result, str(tmp_path), "in use by another run", f"process {os.getpid()}")
    assert (tmp_path / "00_dataset.bin").read_bytes() == before
    small = ("--series", "2", "--points", "40") if script in ("00_generate_data.py", "main.py") else ()
    assert run_script(script, "--output-dir", tmp_path, *small).returncode == 0  # released when the holder is done


def test_phase_5_with_its_own_options_also_waits_for_no_one(tmp_path):
    assert run_script("00_generate_data.py", "--output-dir", tmp_path, "--series", "2", "--points", "400").returncode == 0
    assert run_script("04_custom_binary_format.py", "--output-dir", tmp_path).returncode == 0
    with locked_output_dir(tmp_path):
        result = run_script("05_downsampling_storage.py", "--output-dir", tmp_path, "--apply-retention")
    assert_one_line_error(result, str(tmp_path), "in use by another run", f"process {os.getpid()}")
    assert not list(tmp_path.glob("05_rollup_*.bin"))
    assert run_script("05_downsampling_storage.py", "--output-dir", tmp_path, "--apply-retention").returncode == 0


def test_the_lock_is_released_when_its_holder_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with locked_output_dir(tmp_path):
            raise RuntimeError("phase crashed")
    with locked_output_dir(tmp_path):
        pass
