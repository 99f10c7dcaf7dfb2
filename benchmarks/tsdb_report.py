"""The table of benchmarks/compare_tsdbs.py: one row per database (and the METRICS! file), then what
each counted, its notes, and one line for each system that was skipped or is not installed.
"""
from benchmarks.peer_report import render_table
from benchmarks.tsdb_systems import FAILED, MEASURED, NOT_INSTALLED, SKIPPED

COLUMNS = ("system", "version", "bytes", "B/pt", "x M!", "exact", "missing", "extra", "other ts", "sub-ms",
           "other bits", "NaN only", "ingest s", "stored as")
COUNTS = ("missing", "extra", "other_timestamp", "sub_ms_only", "other_bits", "nan_payload_only")
LEGEND = (
    "x M!: bytes over the METRICS! file's. exact: every point came back, same int64 timestamp, same float64 "
    "bits.\n"
    "missing, extra: points written and not returned, returned and never written; other ts: came back at "
    "another time\n"
    "(sub-ms: only the sub-millisecond digits lost); other bits: came back with another float64 bit pattern "
    "(NaN only: a NaN\n"
    "with another payload). ingest s: from the first byte sent until the system acknowledged all (promtool: "
    "its whole run;\nthe METRICS! file: writing it)."
)


def _cell(number, spec):
    return "-" if number is None else format(number, spec)


def table_line(outcome, points, metrics_bytes):
    m = outcome.mismatches
    counts = [_cell(getattr(m, name), ",") if m else "-" for name in COUNTS]
    per_point = outcome.bytes / points if outcome.bytes is not None and points else None
    ratio = outcome.bytes / metrics_bytes if outcome.bytes is not None and metrics_bytes else None
    return [outcome.system, outcome.version or "-", _cell(outcome.bytes, ","), _cell(per_point, ".3f"),
            _cell(ratio, ".3f"), ("yes" if m.exact else "no") if m else "-", *counts,
            _cell(outcome.ingest_seconds, ".2f"), outcome.partitions or "-"]


def format_report(dataset, outcomes):
    """The whole report of one dataset: heading, table, legend, then per system what was counted."""
    metrics = outcomes[0]
    points = dataset.points
    lines = [f"dataset: {dataset.description}"]
    lines += [f"  {detail}" for detail in dataset.details]
    lines += [f"  {len(dataset.series):,} series, {points:,} points", ""]
    measured = [o for o in outcomes if o.status == MEASURED]
    lines += [render_table(COLUMNS, [table_line(o, points, metrics.bytes) for o in measured]), "", LEGEND, ""]
    for outcome in measured:
        counted = ", ".join(f"{part} {size:,}" for part, size in outcome.parts.items())
        lines.append(f"{outcome.system}: counted {counted} bytes")
        lines += [f"  {note}" for note in outcome.notes]
        m = outcome.mismatches
        if m is not None:
            if m.max_relative_error:
                lines.append(f"  largest relative error of a changed value: {m.max_relative_error:.3g}")
            lines += [f"  e.g. {kind.replace('_', ' ')}: {text}" for kind, text in m.examples.items()]
    for outcome in outcomes:
        if outcome.status == NOT_INSTALLED:
            lines.append(f"{outcome.system}: not installed ({outcome.reason})")
        elif outcome.status == SKIPPED:
            lines.append(f"{outcome.system}: skipped: {outcome.reason}")
        elif outcome.status == FAILED:
            lines.append(f"{outcome.system}: FAILED: {outcome.reason}")
    return "\n".join(lines)
