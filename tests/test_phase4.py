"""Phase 4 proves its round trip for real, and its random-access demo shows a range read saving work."""
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
