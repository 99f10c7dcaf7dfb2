"""Which dataset each file was written from: a file of another dataset is never compared with."""
import numpy as np

from lib.data.dataset import Series, save_dataset
from lib.runner.phases import earlier_phase_file
from lib.runner.provenance import dataset_fingerprint, record_written, written_from_current_dataset
from tests.conftest import phase_module, run_script


def dataset(values):
    return [Series("x", {}, np.arange(3, dtype=np.int64), np.array(values, dtype=float))]


def test_a_file_is_current_only_while_its_dataset_is(tmp_path):
    save_dataset(dataset([1, 2, 3]), tmp_path / "00_dataset.bin")
    (tmp_path / "02_columnar.msgpack").write_bytes(b"phase 2")
    assert not written_from_current_dataset(tmp_path / "02_columnar.msgpack")  # never recorded
    record_written(tmp_path, tmp_path / "02_columnar.msgpack")
    assert earlier_phase_file(tmp_path, 2) == tmp_path / "02_columnar.msgpack"
    save_dataset(dataset([1, 2, 3]), tmp_path / "00_dataset.bin")  # the same dataset again: still current
    assert written_from_current_dataset(tmp_path / "02_columnar.msgpack")
    save_dataset(dataset([1, 2, 4]), tmp_path / "00_dataset.bin")  # another dataset (an interrupted run)
    assert earlier_phase_file(tmp_path, 2) is None
    (tmp_path / "00_dataset.bin").unlink()
    assert dataset_fingerprint(tmp_path) is None and not written_from_current_dataset(tmp_path / "02_columnar.msgpack")


def test_the_fingerprint_is_the_dataset_files_size_and_crc(tmp_path):
    size = save_dataset(dataset([1, 2, 3]), tmp_path / "00_dataset.bin")
    crc = int.from_bytes((tmp_path / "00_dataset.bin").read_bytes()[-4:], "little")
    assert dataset_fingerprint(tmp_path) == f"{size}:{crc:08x}"


def test_a_damaged_record_file_means_no_file_is_current(tmp_path):
    save_dataset(dataset([1, 2, 3]), tmp_path / "00_dataset.bin")
    (tmp_path / "01_metrics.ndjson").write_text("{}")
    record_written(tmp_path, tmp_path / "01_metrics.ndjson")
    (tmp_path / ".provenance.json").write_text("[not a map")
    assert earlier_phase_file(tmp_path, 1) is None


def test_after_an_interrupted_run_a_phase_does_not_compare_with_the_old_datasets_file(tmp_path, capsys):
    args = ("--output-dir", tmp_path, "--series", "4", "--points", "400")
    assert run_script("main.py", *args, "--no-reference").returncode == 0
    # A new dataset, then the run "stops" before phase 2: phase 2's file is the old dataset's.
    assert run_script("00_generate_data.py", *args, "--seed", "7").returncode == 0
    phase_module("03_compressed_columnar.py").run(tmp_path)
    assert "than phase 2's columns" not in capsys.readouterr().out
    phase_module("02_columnar_storage.py").run(tmp_path)
    phase_module("03_compressed_columnar.py").run(tmp_path)
    assert "than phase 2's columns" in capsys.readouterr().out
