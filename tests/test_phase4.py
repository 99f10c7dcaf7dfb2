"""Phase 4 proves its round trip for real, and its random-access demo shows a range read saving work."""
import re

import numpy as np
import pytest

from lib.data.dataset import save_dataset
from lib.data.generator import generate_dataset
from lib.errors import RoundTripError
from tests.conftest import phase_module

phase4 = phase_module("04_custom_binary_format.py")


@pytest.fixture
def output_dir(tmp_path):
    save_dataset(generate_dataset(4, 6_000, seed=7), tmp_path / "00_dataset.bin")
    return tmp_path


def test_report_glosses_every_codec_and_the_hour_read_decodes_fewer_blocks(output_dir, capsys):
    result = phase4.run(output_dir)
    assert result.verified
    out = capsys.readouterr().out
    chosen = [line.split()[0] for line in out.splitlines() if "bits/point" in line]
    glossed = out.split("The codecs named above:")[1]
    assert chosen and all(name in glossed for name in chosen)
    small_blocks = next(line for line in out.splitlines() if line.strip().startswith("one hour, 256-point"))
    decoded, of = (int(word) for word in small_blocks.split("(")[1].replace("blocks decoded of its", "").split(")")[0].split())
    assert 0 < decoded < of


def test_a_read_that_differs_fails_the_phase_instead_of_claiming_verified(output_dir, monkeypatch):
    honest = phase4.read_file

    def one_value_off(path):
        series_list = honest(path)
        series_list[0].values[0] = np.nextafter(series_list[0].values[0], np.inf)
        return series_list

    monkeypatch.setattr(phase4, "read_file", one_value_off)
    with pytest.raises(RoundTripError, match="read_file"):
        phase4.run(output_dir)


def test_the_crc_lesson_flips_a_bit_of_a_copy_and_quotes_the_refusal(output_dir):
    phase4.run(output_dir)
    path = output_dir / "04_metrics.bin"
    before = path.read_bytes()
    lesson = phase4.crc_lesson(path)
    assert "is refused: checksum mismatch, the block is damaged" in lesson
    assert path.read_bytes() == before  # the file itself is untouched


def test_the_traced_block_adds_up_to_the_block_the_file_holds(output_dir, capsys):
    from lib.storage.metrics_file import MetricsFile
    phase4.run(output_dir)
    out = capsys.readouterr().out
    assert out.startswith("Phase 4: one block traced, the first ")
    trace = " ".join(out.split("\n\n")[0].split())
    parts = [int(n.replace(",", "")) for n in re.search(
        r"value stream ([\d,]+) B = header ([\d,]+) B \+ residual bins ([\d,]+) B \+ adjustments and exceptions ([\d,]+) B",
        trace).groups()]
    assert parts[0] == sum(parts[1:])
    block = [int(n.replace(",", "")) for n in re.search(
        r"block ([\d,]+) B = block header (\d+) B \+ timestamps ([\d,]+) B \+ values ([\d,]+) B \+ CRC32 (\d+) B", trace).groups()]
    assert block[0] == sum(block[1:]) and block[3] == parts[0]
    with MetricsFile(output_dir / "04_metrics.bin") as f:  # the traced block is one the file holds
        assert block[0] in {b.length for entry in f.series for b in entry.blocks[:1]}


def test_a_dataset_without_decimal_blocks_says_so(tmp_path, capsys):
    from lib.data.dataset import Series
    noise = np.cumsum(np.random.default_rng(1).normal(0, 1e-300, 500))  # no decimal comes near: ordered-bins
    save_dataset([Series("noise", {}, np.arange(500, dtype=np.int64), noise)], tmp_path / "00_dataset.bin")
    phase4.run(tmp_path)
    assert "no block of this dataset starts as decimal digits" in capsys.readouterr().out
