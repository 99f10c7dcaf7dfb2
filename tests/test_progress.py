import io

from lib.plumbing.progress import Progress


def test_short_jobs_print_nothing():
    stream = io.StringIO()
    progress = Progress("work", 100, delay=3600, stream=stream)
    progress.advance(100)
    progress.finish()
    assert stream.getvalue() == ""


def test_long_jobs_report_counts_and_a_final_line():
    stream = io.StringIO()
    progress = Progress("writing", 200, delay=0, every=0, stream=stream)
    progress.advance(50)
    progress.advance(150)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "  writing: 50/200 points (25%)"
    assert lines[1] == "  writing: 200/200 points (100%)"
    assert lines[2].startswith("  writing: done in ")


def test_a_job_of_unknown_size_reports_its_count():
    stream = io.StringIO()
    progress = Progress("compressing", None, delay=0, every=0, stream=stream)
    progress.advance(1_500)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "  compressing: 1,500 points" and lines[1].startswith("  compressing: done in ")
