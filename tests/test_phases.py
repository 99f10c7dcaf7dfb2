"""Each phase proves its own round trip; here we check that the proof is real and the CLI behaves."""
import json

import numpy as np
import pytest
from hypothesis import given, settings

from lib.data.dataset import Series, assert_identical, load_dataset_for_phase, save_dataset
from lib.errors import FormatError, RoundTripError, SqueezedSignalsError
from lib.runner.phases import WriteCheck, available_phase_scripts, write_and_verify
from tests.conftest import awkward_dataset, phase_module, run_script
from tests.test_dataset import datasets

ndjson = phase_module("01_ndjson_storage.py")
columnar = phase_module("02_columnar_storage.py")


def run_phases_in_order(output_dir):
    results = []
    for script in available_phase_scripts():  # in order: phase 5 reads phase 4's file
        result = phase_module(script).run(output_dir)
        files = list(output_dir.glob(result.path.name))
        written = result.on_disk_bytes if result.projected else result.bytes  # phase 5's row is a projected year
        assert result.verified and written == sum(p.stat().st_size for p in files) > 0, script
        results.append(result)
    return results


def test_every_phase_round_trips_the_awkward_dataset(tmp_path):
    # Downsampling cannot bucket timestamps next to the int64 limits (see the next test).
    usable = [s for s in awkward_dataset() if s.name != "extreme_timestamps"]
    save_dataset(usable, tmp_path / "00_dataset.bin")
    assert len(run_phases_in_order(tmp_path)) == len(available_phase_scripts())


def test_every_lossless_phase_keeps_int64_extreme_timestamps(awkward_output_dir):
    for script in available_phase_scripts():
        if script.startswith("05"):
            with pytest.raises(SqueezedSignalsError, match="int64 limits"):
                phase_module(script).run(awkward_output_dir)
        else:
            assert phase_module(script).run(awkward_output_dir).verified


@pytest.mark.parametrize("write,read", [(ndjson.write_ndjson, ndjson.read_ndjson),
                                        (columnar.write_columnar, columnar.read_columnar)])
@settings(max_examples=40, deadline=None)
@given(series_list=datasets())
def test_phase_1_and_2_files_round_trip_any_dataset(tmp_path_factory, write, read, series_list):
    path = tmp_path_factory.mktemp("p") / "m"
    write(series_list, path)
    assert_identical(series_list, read(path))


def test_ndjson_lines_match_the_documented_shape(tmp_path):
    series_list = [Series("cpu_usage_percent", {"host": "server-a", "region": "us-east-1"},
                          [1697123456000000000], [75.2])]
    ndjson.write_ndjson(series_list, tmp_path / "m.ndjson")
    assert (tmp_path / "m.ndjson").read_text() == (
        '{"timestamp": 1697123456000000000, "metric_name": "cpu_usage_percent", "value": 75.2, '
        '"labels": {"host": "server-a", "region": "us-east-1"}}\n'
    )


def test_ndjson_special_values_are_strings_prometheus_style():
    assert ndjson.format_value(float("nan")) == '"NaN"'
    assert ndjson.format_value(float("inf")) == '"+Inf"'
    assert ndjson.format_value(float("-inf")) == '"-Inf"'
    payload_nan = float(np.uint64(0x7FF8000000000001).view(np.float64))
    assert ndjson.format_value(payload_nan) == '"NaN:0x7ff8000000000001"'
    assert ndjson.format_value(-0.0) == "-0.0"


def test_ndjson_orders_points_by_time_across_series_but_keeps_each_series_order(tmp_path):
    series_list = [
        Series("a", {}, [10, 30, 20], [1.0, 2.0, 3.0]),  # goes backwards: must stay 10, 30, 20
        Series("b", {}, [15, 25], [4.0, 5.0]),
    ]
    ndjson.write_ndjson(series_list, tmp_path / "m.ndjson")
    lines = [json.loads(line) for line in (tmp_path / "m.ndjson").read_text().splitlines()]
    assert [(p["metric_name"], p["timestamp"]) for p in lines] == [
        ("a", 10), ("b", 15), ("b", 25), ("a", 30), ("a", 20)
    ]


@pytest.mark.parametrize("content", [
    b'{"timestamp": 1, "metric_name": "m", "value": 1.0, "labels": {}}\n{"timestamp": 2, "metric',
    b'{"timestamp": 1.5, "metric_name": "m", "value": 1.0, "labels": {}}\n',
    b'{"timestamp": 1, "metric_name": "m", "value": "lots", "labels": {}}\n',
    b'{"timestamp": 1, "metric_name": "m", "value": 1.0, "labels": {"a": 1}}\n',
    b'[1, 2]\n',
])
def test_damaged_ndjson_raises_format_error_naming_file(tmp_path, content):
    path = tmp_path / "m.ndjson"
    path.write_bytes(content)
    with pytest.raises(FormatError, match="m.ndjson"):
        ndjson.read_ndjson(path)


def test_damaged_columnar_file_raises_format_error(tmp_path):
    path = tmp_path / "m.msgpack"
    columnar.write_columnar(awkward_dataset(), path)
    data = path.read_bytes()
    cases = [data[:n] for n in range(0, len(data), 7)] + [data + b"\x00", b"\xdd\xff\xff\xff\xff" + data]
    for content in cases:
        path.write_bytes(content)
        with pytest.raises(FormatError):
            columnar.read_columnar(path)


def test_a_phase_whose_file_reads_back_differently_fails_loudly(tmp_path, monkeypatch):
    save_dataset(awkward_dataset(), tmp_path / "00_dataset.bin")
    original_read = columnar.read_columnar

    def read_with_one_bit_flipped(path):
        series_list = original_read(path)
        series_list[0].values.view(np.uint64)[0] ^= 1
        return series_list

    monkeypatch.setattr(columnar, "read_columnar", read_with_one_bit_flipped)
    with pytest.raises(RoundTripError):
        columnar.run(tmp_path)


@pytest.mark.parametrize("script", ["01_ndjson_storage.py", "02_columnar_storage.py"])
def test_phase_before_phase_0_says_which_command_to_run(tmp_path, script):
    result = run_script(script, "--output-dir", tmp_path)
    assert result.returncode == 2
    assert "python 00_generate_data.py" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_phase_script_runs_from_the_command_line(tmp_path):
    assert run_script("00_generate_data.py", "--output-dir", tmp_path, "--series", "3", "--points", "300").returncode == 0
    result = run_script("02_columnar_storage.py", "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout


def test_main_runs_every_phase_and_writes_json_rows(tmp_path):
    json_path = tmp_path / "rows.json"
    result = run_script("main.py", "--output-dir", tmp_path, "--series", "12", "--points", "2000",
                        "--json", json_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(json_path.read_text())
    phases = [row["phase"] for row in rows]
    assert phases[:4] == [0, 1, "ref", "ref"] and len(rows) == 3 + len(available_phase_scripts())
    required = {"phase", "name", "bytes", "points", "bytes_per_point", "ratio_vs_ndjson", "seconds", "verified"}
    ndjson_bytes = rows[1]["bytes"]
    for row in rows:
        assert required <= set(row)
        assert row["verified"] is True
        written = row["on_disk_bytes"] if row["projected"] else row["bytes"]
        files = "05_rollup_*.bin" if row["phase"] == 5 else row["file"]  # phase 5's row names its workload
        assert written == sum(p.stat().st_size for p in tmp_path.glob(files))
        ndjson_per_point = ndjson_bytes / rows[1]["points"]
        assert row["ratio_vs_ndjson"] == pytest.approx(ndjson_per_point / (row["bytes"] / row["points"]), rel=1e-3)
        assert row["projected"] == row["lossy"] == (row["phase"] == 5)
    assert "✓" in result.stdout and "#" in result.stdout
    assert len(load_dataset_for_phase(tmp_path)) == 12


@pytest.mark.parametrize("args", [["--size", "huge"], ["--seed", "x"]])
def test_main_rejects_bad_arguments_without_traceback(tmp_path, args):
    result = run_script("main.py", "--output-dir", tmp_path, *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_generator_rejects_impossible_sizes(tmp_path):
    result = run_script("00_generate_data.py", "--output-dir", tmp_path, "--series", "0")
    assert result.returncode == 2 and "error:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "00_dataset.bin").exists()


def test_generator_is_byte_identical_across_runs(tmp_path):
    for folder in ("a", "b"):
        assert run_script("00_generate_data.py", "--output-dir", tmp_path / folder).returncode == 0
    assert (tmp_path / "a" / "00_dataset.bin").read_bytes() == (tmp_path / "b" / "00_dataset.bin").read_bytes()


def test_every_script_explains_itself_in_help():
    for script in ["00_generate_data.py", "main.py", *available_phase_scripts()]:
        result = run_script(script, "--help")
        assert result.returncode == 0 and "--output-dir" in result.stdout


def write_import_fixtures(folder):
    """One small file per import format, with the awkward values real exports contain."""
    folder.mkdir()
    (folder / "cpu.csv").write_text("timestamp,value\r\n1700000000,0.1\r\n1700000015,NaN\r\n1700000030,+Inf\r\n")
    (folder / "long.csv").write_text(
        "timestamp,metric,value,host\n2023-10-12T14:30:00Z,mem_bytes,4096,a\n2023-10-12 14:30:15,mem_bytes,-0.0,a\n"
    )
    (folder / "weather.lp").write_text(
        "weather,location=us\\ midwest temperature=82.5,humidity=71i 1465839830100400200\n"
        "weather,location=us\\ midwest temperature=-Inf 1465839830200400200\n"
    )
    (folder / "query.json").write_text(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "up", "job": "node"}, "values": [[1700000000.123, "1"], [1700000015.123, "0"]]},
    ]}}))
    return sorted(folder.iterdir())


def test_main_runs_every_phase_verified_on_imported_files(tmp_path):
    files = write_import_fixtures(tmp_path / "in")
    json_path = tmp_path / "rows.json"
    result = run_script("main.py", "--output-dir", tmp_path / "out", "--import", *files, "--json", json_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(json_path.read_text())
    assert all(row["verified"] for row in rows) and rows[0]["points"] == 3 + 2 + 3 + 2
    names = {s.name for s in load_dataset_for_phase(tmp_path / "out")}
    assert names == {"cpu", "mem_bytes", "weather_temperature", "weather_humidity", "up"}


def test_failed_import_keeps_the_previous_dataset(tmp_path):
    assert run_script("00_generate_data.py", "--output-dir", tmp_path, "--series", "2", "--points", "50").returncode == 0
    before = (tmp_path / "00_dataset.bin").read_bytes()
    (tmp_path / "bad.csv").write_text("timestamp,value\n1700000000,1.0\nnot-a-time,2.0\n")
    result = run_script("00_generate_data.py", "--output-dir", tmp_path, "--import", tmp_path / "bad.csv")
    assert result.returncode == 2
    assert "bad.csv:3" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "00_dataset.bin").read_bytes() == before


def test_phase_5_refuses_a_phase_4_file_written_for_another_dataset(tmp_path):
    args = ("--output-dir", tmp_path, "--series", "3", "--points", "600")
    assert run_script("00_generate_data.py", *args, "--seed", "1").returncode == 0
    assert run_script("04_custom_binary_format.py", "--output-dir", tmp_path).returncode == 0
    assert run_script("00_generate_data.py", *args, "--seed", "2").returncode == 0
    result = run_script("05_downsampling_storage.py", "--output-dir", tmp_path)
    assert result.returncode == 2 and "another dataset" in result.stderr and "Traceback" not in result.stderr


def test_phase_5_refuses_labels_that_roll_up_files_reserve(tmp_path):
    save_dataset([Series("m", {"__rollup__": "x"}, [1, 2], [1.0, 2.0])], tmp_path / "00_dataset.bin")
    phase_module("04_custom_binary_format.py").run(tmp_path)
    with pytest.raises(SqueezedSignalsError, match="reserved"):
        phase_module("05_downsampling_storage.py").run(tmp_path)


def test_write_and_verify_reports_what_the_comparison_found(tmp_path):
    series_list = awkward_dataset()
    check = write_and_verify(series_list, tmp_path / "f", columnar.write_columnar, columnar.read_columnar, "t")
    assert check.verified is True and check.bytes == (tmp_path / "f").stat().st_size and check.seconds > 0

    def read_one_point_short(path):
        read = columnar.read_columnar(path)
        read[0] = Series(read[0].name, read[0].labels, read[0].timestamps[:-1], read[0].values[:-1])
        return read

    with pytest.raises(RoundTripError, match="points expected"):
        write_and_verify(series_list, tmp_path / "f", columnar.write_columnar, read_one_point_short, "t")


@pytest.mark.parametrize("script", ["02_columnar_storage.py", "03_compressed_columnar.py"])
def test_the_verified_flag_of_a_phase_comes_from_its_check(awkward_output_dir, monkeypatch, script):
    module = phase_module(script)

    def check_that_established_nothing(*args):
        return WriteCheck(bytes=1, seconds=0.0, verified=False)

    monkeypatch.setattr(module, "write_and_verify", check_that_established_nothing)
    assert module.run(awkward_output_dir).verified is False


FLIP_ONE_BIT_AND_RUN = """
import sys
from lib.runner.cli import exit_on_user_error
from lib.runner.phases import load_script
phase = load_script(sys.argv[1])
original = getattr(phase, sys.argv[2])
def read_with_one_bit_flipped(path):
    series_list = original(path)
    series_list[0].values.view("uint64")[0] ^= 1
    return series_list
setattr(phase, sys.argv[2], read_with_one_bit_flipped)
exit_on_user_error(lambda: phase.run(sys.argv[3]))
"""


@pytest.mark.parametrize("script, reader", [("02_columnar_storage.py", "read_columnar"),
                                            ("03_compressed_columnar.py", "read_compressed")])
def test_a_phase_whose_read_back_differs_exits_1_naming_the_difference(awkward_output_dir, script, reader):
    result = run_script("-c", FLIP_ONE_BIT_AND_RUN, script, reader, awkward_output_dir)
    assert result.returncode == 1, result.stderr
    assert "has bits" in result.stderr and "Traceback" not in result.stderr


def test_phase_0_counts_scrape_intervals_by_the_median_gap():
    phase0 = phase_module("00_generate_data.py")
    seconds = 10**9
    jittered = Series("a", {}, np.array([0, 15, 30, 46, 60, 120]) * seconds, np.zeros(6))  # one late, one gap
    ten = Series("b", {}, np.arange(0, 100, 10) * seconds, np.zeros(10))
    counts = phase0.scrape_intervals([jittered, ten, Series("c", {}, [5], [1.0])])
    assert counts == {15: 1, 10: 1}
    assert phase0.format_intervals(counts) == "15 s: 1 series, 10 s: 1 series"
