"""What a phase reports, and the comparison table, bar chart and JSON rows main.py prints.

A phase returns a `PhaseResult`; `verified` is True only after the phase read its own file back and
proved it identical to what it wrote (for phase 5: the roll-ups, also checked against the raw
points). Rows 0-4 hold the same points in every format. A `lossy` row keeps aggregates instead of
points; a `projected` row is not this dataset's file but a projection from measured sizes (phase 5:
a year of this dataset's workload under the retention policy), so its `points` and `bytes` are that
year's and `on_disk_bytes` is what the phase actually wrote. Ratios compare bytes per point, which
for rows of the same points is the same as comparing sizes. Everything here is plain text for the terminal or JSON for
machines: no plotting dependency.
"""
import json
import math
from dataclasses import dataclass
from pathlib import Path

from lib.plumbing.atomic import write_bytes_atomically
from lib.report.text import wrap

BAR_WIDTH = 40


@dataclass
class PhaseResult:
    phase: object  # 0-5 for phases, a label such as "ref" for reference rows
    name: str
    path: Path
    bytes: int
    points: int
    seconds: float
    verified: bool
    lossy: bool = False
    projected: bool = False
    on_disk_bytes: int = None  # when projected: the size of the files actually written
    storage_over_time: dict = None  # when projected: lib.retention.projection.storage_over_time of the workload
    file_label: str = None  # the table's `file` cell when it is not path.name (a projection)
    note: str = None  # the sentence under the table that says what a starred row is
    workload: dict = None  # when projected: {"series", "interval_s"} of the projected workload

    @property
    def bytes_per_point(self):
        return self.bytes / self.points if self.points else 0.0

    @property
    def file(self):
        return self.file_label or self.path.name

    def summary_line(self):
        mark = "verified" if self.verified else "NOT verified"
        if self.projected:
            return (f"phase {self.phase} ({self.name}): wrote {self.path} {human_bytes(self.on_disk_bytes)}, {mark}; "
                    f"projected {human_bytes(self.bytes)} for {self.points:,} points ({self.file}), "
                    f"{self.bytes_per_point:.3f} bytes/point")
        return (
            f"phase {self.phase} ({self.name}): {self.path} {human_bytes(self.bytes)}, "
            f"{self.bytes_per_point:.2f} bytes/point, {mark}"
        )


def human_bytes(size):
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000.0


def ratio_vs(baseline_bytes, size):
    return baseline_bytes / size if size else 0.0


def ratio_words(baseline_bytes, size):
    """A size next to a baseline, with its direction in words: "2.1x smaller", "1.8x larger"."""
    if not size or not baseline_bytes:
        return "-"
    if size <= baseline_bytes:
        return f"{baseline_bytes / size:.1f}x smaller"
    return f"{size / baseline_bytes:.1f}x larger"


COMPARISON_TITLE = ("Comparison (rows 0-4 and ref: the same points in every format; "
                    "* = lossy and projected, see the note below the table)")


def table_rows(results, baseline_bytes):
    """One dict per result with the fields of the `main.py --json` contract, plus `lossy` and
    `projected` (and `on_disk_bytes` and `storage_over_time` for a projected row). The ratio compares bytes per point with
    NDJSON's (the phase-1 result), so a projected row of other points is still compared fairly."""
    ndjson = next((r for r in results if r.phase == 1 and r.points), None)
    rows = []
    for r in results:
        if ndjson is not None and r.points:
            ratio = ndjson.bytes_per_point / r.bytes_per_point if r.bytes else 0.0
        else:
            ratio = ratio_vs(baseline_bytes, r.bytes)
        row = {
            "phase": r.phase,
            "name": r.name,
            "file": r.file,
            "bytes": r.bytes,
            "points": r.points,
            "bytes_per_point": round(r.bytes_per_point, 4),
            "ratio_vs_ndjson": round(ratio, 3) if baseline_bytes else None,
            "seconds": round(r.seconds, 3),
            "verified": r.verified,
            "lossy": r.lossy,
            "projected": r.projected,
        }
        if r.on_disk_bytes is not None:
            row["on_disk_bytes"] = r.on_disk_bytes
        if r.workload:
            row["workload"] = r.workload
        if r.storage_over_time:
            row["storage_over_time"] = r.storage_over_time
        if r.note:
            row["note"] = r.note
        rows.append(row)
    return rows


def marked_name(row):
    return row["name"] + (" *" if row.get("projected") or row.get("lossy") else "")


def table_notes(rows):
    """Under the table: what a lossy or projected row is, so nobody reads it as the same points."""
    notes = []
    for row in rows:
        if row.get("note"):
            notes.append(wrap(f"* {row['note']}", indent="", hanging="  "))
        elif row.get("projected") or row.get("lossy"):
            notes.append(f"* phase {row['phase']} is lossy: it keeps aggregates, not the points.")
    return notes


def format_table(rows):
    headers = ("phase", "format", "file", "size", "bytes/pt", "vs NDJSON", "seconds", "verified")
    body = [
        (
            str(row["phase"]),
            marked_name(row),
            row["file"],
            human_bytes(row["bytes"]),
            f"{row['bytes_per_point']:.2f}",
            f"{row['ratio_vs_ndjson']:.1f}x" if row["ratio_vs_ndjson"] else "-",
            f"{row['seconds']:.2f}",
            "✓" if row["verified"] else "✗",
        )
        for row in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(headers)]
    right_aligned = {3, 4, 5, 6}

    def line(cells):
        padded = (c.rjust(w) if i in right_aligned else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "  ".join(padded).rstrip()

    separator = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), separator, *(line(cells) for cells in body), *table_notes(rows)])


def format_bar_chart(rows, width=BAR_WIDTH):
    """Horizontal bars of bytes per point on a log scale, so that every step shows: on a linear
    scale NDJSON's 211 bytes leave phases 3 to 5 one `#` each. The bars start at the power of ten
    below the smallest value; each `|` under the chart marks a factor of ten."""
    drawn = [row for row in rows if row["bytes_per_point"] > 0]
    if not drawn:
        return ""
    low = 10 ** math.floor(math.log10(min(row["bytes_per_point"] for row in drawn)))
    high = 10 ** math.ceil(math.log10(max(row["bytes_per_point"] for row in drawn) * 1.000001))
    decades = max(round(math.log10(high / low)), 1)
    label_width = max(len(f"{row['phase']} {marked_name(row)}") for row in rows)
    lines = ["bytes per point (log scale):"]
    for row in rows:
        value = row["bytes_per_point"]
        filled = round(width * math.log10(value / low) / decades) if value > 0 else 0
        bar = "#" * max(filled, 1 if value > 0 else 0)
        label = f"{row['phase']} {marked_name(row)}"
        lines.append(f"{label.ljust(label_width)}  {bar.ljust(width)}  {value:.3f}")
    ticks = [" "] * (width + 1)
    for decade in range(decades + 1):
        ticks[round(width * decade / decades)] = "|"
    lines.append(" " * (label_width + 2) + "".join(ticks).rstrip())
    scale = "  ".join(f"{low * 10 ** d:g}" for d in range(decades + 1))
    lines.append(" " * (label_width + 2) + f"(ticks at {scale} bytes)")
    return "\n".join(lines)


def write_json_rows(rows, path):
    write_bytes_atomically(path, (json.dumps(rows, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
