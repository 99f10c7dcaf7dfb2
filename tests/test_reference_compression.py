"""The gzip/xz reference rows: exact for small files, estimated from a sample of whole lines above that."""
import gzip
import io
import lzma

import pytest

import lib.report.reference_compression as reference
from lib.errors import RoundTripError


@pytest.fixture
def numbered_lines(tmp_path):
    """400 bytes: 100 lines "000\\n" .. "099\\n", line k starting at byte 4k."""
    path = tmp_path / "m.ndjson"
    path.write_bytes(b"".join(b"%03d\n" % k for k in range(100)))
    return path


def test_sample_slices_are_whole_lines_centred_in_each_half(numbered_lines):
    # size 400, 2 slices of 40 bytes: centres at 100 and 300, so starts at 80 and 280 (lines 20 and 70)
    slices = list(reference.sample_slices(numbered_lines, 80, 2))
    assert slices == [b"".join(b"%03d\n" % k for k in range(20, 30)), b"".join(b"%03d\n" % k for k in range(70, 80))]


def test_a_slice_starting_inside_a_line_begins_at_the_next_line(numbered_lines):
    # 3 slices of 26 bytes: centres at 66, 200 and 333, starts at 53, 187 and 320
    slices = list(reference.sample_slices(numbered_lines, 78, 3))
    assert [s[:4] for s in slices] == [b"014\n", b"047\n", b"080\n"]
    assert all(len(s) % 4 == 0 and len(s) <= 26 for s in slices)


@pytest.mark.parametrize("method,opener", [("gzip", gzip.open), ("lzma", lzma.open)])
def test_a_small_file_is_compressed_whole_and_verified(numbered_lines, method, opener):
    row = reference.compress_reference(numbered_lines, method, points=100)
    assert not row.estimated and row.sample_bytes is None and row.verified
    assert row.path.name == "m.ndjson" + reference.COMPRESSORS[method].suffix
    assert row.bytes == row.path.stat().st_size
    with opener(row.path, "rb") as f:
        assert f.read() == numbered_lines.read_bytes()


@pytest.mark.parametrize("method,opener", [("gzip", gzip.open), ("lzma", lzma.open)])
def test_a_large_file_is_estimated_from_its_sample(numbered_lines, monkeypatch, method, opener):
    monkeypatch.setattr(reference, "SAMPLE_BYTES", 80)
    row = reference.compress_reference(numbered_lines, method, points=100)
    assert row.estimated and row.sample_bytes == 80 and "(estimated)" in row.name
    assert row.path.name == "m.ndjson.sample" + reference.COMPRESSORS[method].suffix
    with opener(row.path, "rb") as f:
        assert f.read() == b"".join(reference.sample_slices(numbered_lines, 80, 2))
    assert row.bytes == round(row.path.stat().st_size * 400 / 80)


def test_the_other_kind_of_compressed_file_is_removed(numbered_lines, monkeypatch):
    whole = reference.compress_reference(numbered_lines, "gzip", 100).path
    monkeypatch.setattr(reference, "SAMPLE_BYTES", 80)
    sample = reference.compress_reference(numbered_lines, "gzip", 100).path
    assert sample.exists() and not whole.exists()
    reference.compress_reference(numbered_lines, "gzip", 100, exact=True)
    assert whole.exists() and not sample.exists()


def test_decompressed_bytes_that_differ_fail_loudly(numbered_lines, monkeypatch):
    lying = reference.Compressor("gzip -6", ".gz", reference.COMPRESSORS["gzip"].make,
                                 lambda path, mode: io.BytesIO(b"not the file"))
    monkeypatch.setitem(reference.COMPRESSORS, "gzip", lying)
    with pytest.raises(RoundTripError, match="differ"):
        reference.compress_reference(numbered_lines, "gzip", 100)


def test_job_counts_the_bytes_it_compressed(numbered_lines, monkeypatch):
    monkeypatch.setattr(reference, "SAMPLE_BYTES", 80)
    job = reference.ReferenceJob(numbered_lines, "lzma", 100)
    assert job.total_bytes == 80 and job.done_bytes == 0
    job.run()
    assert job.done_bytes == 80


def test_rows_say_which_sizes_are_estimated(numbered_lines, monkeypatch):
    exact = reference.compress_reference(numbered_lines, "gzip", 100)
    assert reference.estimate_note([exact]) is None
    monkeypatch.setattr(reference, "SAMPLE_BYTES", 80)
    estimated = reference.compress_reference(numbered_lines, "lzma", 100)
    rows = [{"name": "exact"}, {"name": "estimated"}]
    reference.add_estimate_fields(rows, [exact, estimated])
    assert rows == [{"name": "exact", "sample_bytes": None, "estimated": False},
                    {"name": "estimated", "sample_bytes": 80, "estimated": True}]
    assert "80 B sample" in reference.estimate_note([exact, estimated])


def test_a_sample_without_a_whole_line_falls_back_to_the_whole_file(tmp_path, monkeypatch):
    one_long_line = tmp_path / "one.ndjson"
    one_long_line.write_bytes(b"x" * 400)  # no newline: no slice of it holds a whole line
    monkeypatch.setattr(reference, "SAMPLE_BYTES", 80)
    row = reference.compress_reference(one_long_line, "gzip", points=1)
    assert not row.estimated and row.bytes == row.path.stat().st_size
    with gzip.open(row.path, "rb") as f:
        assert f.read() == one_long_line.read_bytes()
