"""main.py's orchestration: reference rows in the background, their progress, and honest estimates."""
import io
import threading
from concurrent.futures import Future

import lib.report.reference_compression as reference
from lib.plumbing.progress import Progress
from lib.report.table import human_bytes
from tests.conftest import phase_module

main = phase_module("main.py")


class SlowJob:
    total_bytes = 1000
    done_bytes = 0


def test_waiting_for_the_reference_rows_shows_progress(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(main, "Progress", lambda *args, **kwargs: Progress(*args, **kwargs, delay=0, every=0,
                                                                              stream=stream))
    job, future = SlowJob(), Future()

    def work():
        job.done_bytes = 400
        threading.Event().wait(1.2)
        future.set_result("row")

    threading.Thread(target=work).start()
    assert main.wait_for_references([job], [future]) == ["row"]
    assert "waiting for the gzip and xz reference rows: 400/1,000 bytes (40%)" in stream.getvalue()
    assert "done in" in stream.getvalue()


def test_a_run_with_a_large_ndjson_file_marks_its_reference_rows_estimated(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(reference, "SAMPLE_BYTES", 100_000)
    results, stopped = main.run_all(tmp_path, "small", 42, series=4, points=2000)
    assert stopped is None
    rows = main.print_comparison(results)
    ndjson_bytes = next(row["bytes"] for row in rows if row["phase"] == 1)
    references = [row for row in rows if row["phase"] == "ref"]
    assert len(references) == 2 and ndjson_bytes > 100_000
    for row in references:
        assert row["estimated"] is True and 90_000 < row["sample_bytes"] <= 100_000
        assert row["file"].startswith("01_metrics.ndjson.sample.")
        assert row["bytes"] > (tmp_path / row["file"]).stat().st_size  # scaled up to the whole file
    assert all(row["estimated"] is False for row in rows if row["phase"] != "ref")
    sample = human_bytes(references[0]["sample_bytes"])
    assert f"(estimated): the compressor squeezed a {sample} sample" in capsys.readouterr().out
