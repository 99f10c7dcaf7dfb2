"""The comparison table: ratios per point, directions in words, projected rows marked and explained."""
from pathlib import Path

import pytest

from lib.report.table import (
    COMPARISON_TITLE, PhaseResult, format_bar_chart, format_table, ratio_words, table_rows,
)


def test_ratio_words_say_the_direction():
    assert ratio_words(210, 100) == "2.1x smaller"
    assert ratio_words(100, 180) == "1.8x larger"
    assert ratio_words(100, 0) == "-"


def test_a_projected_row_is_compared_per_point_and_explained():
    results = [
        PhaseResult(1, "NDJSON", Path("01.ndjson"), 2000, 10, 0.1, True),
        PhaseResult(4, "METRICS!", Path("04.bin"), 20, 10, 0.1, True),
        PhaseResult(5, "a year", Path("05_rollup_*.bin"), 1000, 1000, 0.1, True, lossy=True, projected=True,
                    on_disk_bytes=30, file_label="2 series every 60 s",
                    note="phase 5's row is a year of 2 series every 60 s, 1,000 points, " + "projected " * 20),
    ]
    rows = table_rows(results, 2000)
    assert [r["ratio_vs_ndjson"] for r in rows] == [1.0, 100.0, 200.0]  # NDJSON: 200 bytes a point
    assert rows[2]["projected"] and rows[2]["lossy"] and rows[2]["on_disk_bytes"] == 30
    assert not rows[1]["projected"] and "on_disk_bytes" not in rows[1]
    table = format_table(rows)
    assert "a year *" in table and "2 series every 60 s" in table and "05_rollup" not in table
    assert "\n* phase 5's row is a year of 2 series every 60 s, 1,000 points" in table  # the note, wrapped
    assert max(len(line) for line in table.splitlines()) <= 120
    assert "bytes per point" in format_bar_chart(rows)
    assert "same points" in COMPARISON_TITLE and "projected" in COMPARISON_TITLE


def test_summary_line_of_a_projected_row_names_both_sizes():
    result = PhaseResult(5, "a year", Path("x"), 2_000_000, 1_000_000, 1.0, True, lossy=True, projected=True,
                         on_disk_bytes=3000)
    line = result.summary_line()
    assert "wrote x 3.0 KB" in line and "projected 2.0 MB" in line
    assert result.bytes_per_point == pytest.approx(2.0)
