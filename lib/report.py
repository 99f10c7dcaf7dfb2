"""What a phase reports, and the comparison table, bar chart and JSON rows main.py prints.

A phase returns a `PhaseResult`; `verified` is True only after the phase read its own file back and
proved it identical to the dataset. Everything here is plain text for the terminal or JSON for
machines: no plotting dependency.
"""
import json
from dataclasses import dataclass
from pathlib import Path

from lib.atomic import write_bytes_atomically

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

    @property
    def bytes_per_point(self):
        return self.bytes / self.points if self.points else 0.0

    def summary_line(self):
        mark = "verified" if self.verified else "NOT verified"
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


def table_rows(results, baseline_bytes):
    """One dict per result with the fields of the `main.py --json` contract."""
    return [
        {
            "phase": r.phase,
            "name": r.name,
            "file": str(r.path.name),
            "bytes": r.bytes,
            "points": r.points,
            "bytes_per_point": round(r.bytes_per_point, 4),
            "ratio_vs_ndjson": round(ratio_vs(baseline_bytes, r.bytes), 3) if baseline_bytes else None,
            "seconds": round(r.seconds, 3),
            "verified": r.verified,
        }
        for r in results
    ]


def format_table(rows):
    headers = ("phase", "format", "file", "size", "bytes/pt", "vs NDJSON", "seconds", "verified")
    body = [
        (
            str(row["phase"]),
            row["name"],
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
    return "\n".join([line(headers), separator, *(line(cells) for cells in body)])


def format_bar_chart(rows, width=BAR_WIDTH):
    """Horizontal bars proportional to size, so the drop from phase to phase is visible at a glance."""
    largest = max((row["bytes"] for row in rows), default=0)
    label_width = max((len(f"{row['phase']} {row['name']}") for row in rows), default=0)
    lines = []
    for row in rows:
        filled = round(width * row["bytes"] / largest) if largest else 0
        bar = "#" * max(filled, 1 if row["bytes"] else 0)
        label = f"{row['phase']} {row['name']}"
        lines.append(f"{label.ljust(label_width)}  {bar.ljust(width)}  {human_bytes(row['bytes'])}")
    return "\n".join(lines)


def write_json_rows(rows, path):
    write_bytes_atomically(path, (json.dumps(rows, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
