"""The tables of benchmarks/compare_peers.py: one row per peer for a dataset, and the summary of
the corpus classes (the METRICS! file against pcodec and the smallest zstd row).
"""
from benchmarks.peers import PROJECT_FILE_PEER

COLUMNS = ("peer", "bytes", "B/point", "bits/ts", "bits/value", "enc Mpt/s", "dec Mpt/s", "enc x zstd3",
           "dec x zstd3", "verified")


def _cell(number, spec):
    return "-" if number is None else format(number, spec)


def render_table(header, lines):
    """A text table: the first column left-aligned, the others right-aligned, a rule under the header."""
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    out = []
    for index, line in enumerate([header, *lines]):
        cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:], widths[1:])]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def format_table(rows):
    return render_table(COLUMNS, [(
        r.peer,
        _cell(r.bytes, ","),
        _cell(r.bytes_per_point(), ".3f"),
        _cell(r.bits(r.timestamp_bytes), ".2f"),
        _cell(r.bits(r.value_bytes), ".2f"),
        _cell(r.throughput(r.encode_seconds), ".2f"),
        _cell(r.throughput(r.decode_seconds), ".2f"),
        _cell(r.encode_ratio, ".3f"),
        _cell(r.decode_ratio, ".3f"),
        "yes" if r.verified else "FAILED",
    ) for r in rows])


def summary_line(rows):
    verified = [r for r in rows if r.verified]
    if not verified:
        return "no peer verified"
    smallest = verified[0]
    project = next((r for r in verified if r.peer == PROJECT_FILE_PEER), None)
    if project is None:
        return f"smallest: {smallest.peer} ({smallest.bytes:,} bytes)"
    if project is smallest:
        runner_up = verified[1] if len(verified) > 1 else None
        tail = f"; next: {runner_up.peer}, {runner_up.bytes / project.bytes:.3f}x its size" if runner_up else ""
        return f"smallest: {PROJECT_FILE_PEER} ({project.bytes:,} bytes){tail}"
    return (f"smallest: {smallest.peer} ({smallest.bytes:,} bytes); {PROJECT_FILE_PEER} is "
            f"{project.bytes:,} bytes, {project.bytes / smallest.bytes:.3f}x the smallest")


def print_report(dataset, rows, notes, repeat):
    points = dataset.points
    print(f"dataset: {dataset.description}")
    for detail in dataset.details:
        print(f"  {detail}")
    print(f"  {len(dataset.series):,} series, {points:,} points, raw columns {16 * points:,} bytes "
          f"(16 bytes/point); throughput is the median of {repeat} interleaved run(s)")
    print()
    print(format_table(rows))
    print()
    print(summary_line(rows))
    for r in rows:
        if not r.verified:
            print(f"FAILED {r.peer}: {r.error}")
    for note in notes:
        print(f"skipped: {note}")


# The corpus summary

SUMMARY_COLUMNS = ("class", "points", "M! B/pt", "M! ts", "M! val", "pco B/pt", "pco ts", "pco val",
                   "zstd B/pt", "zstd ts", "zstd val", "M!/pco", "M!/zstd", "M! wr x z3", "M! rd x z3")
SUMMARY_LEGEND = (
    "M!: squeezed-signals METRICS! file; pco: pcodec (per series); zstd: the smallest zstd row of the class "
    "(its table names it).\n"
    "B/pt: bytes per point; ts, val: bits per timestamp and per value; M!/pco, M!/zstd: the METRICS! "
    "size over theirs (<= 1.0: METRICS! is smaller);\n"
    "M! wr x z3, M! rd x z3: METRICS! write and read throughput over \"zstd-3, plain\"'s, the median of "
    "the per-run ratios of the interleaved runs."
)


def summary_rows(rows):
    """(METRICS! row, pcodec row, smallest zstd row) among the verified rows; None where absent."""
    verified = [r for r in rows if r.verified]
    project = next((r for r in verified if r.peer == PROJECT_FILE_PEER), None)
    pcodec = next((r for r in verified if r.group == "pcodec"), None)
    zstd = min((r for r in verified if r.group == "zstd"), key=lambda r: r.bytes, default=None)
    return project, pcodec, zstd


def format_corpus_summary(results):
    """One line per class of (class name, rows): sizes, column bits, size and speed ratios."""
    lines = []
    for class_name, rows in results:
        project, pcodec, zstd = summary_rows(rows)
        line = [class_name, _cell(rows[0].points if rows else None, ",")]
        for r in (project, pcodec, zstd):
            line += [_cell(r and r.bytes_per_point(), ".3f"), _cell(r and r.bits(r.timestamp_bytes), ".2f"),
                     _cell(r and r.bits(r.value_bytes), ".2f")]
        for other in (pcodec, zstd):
            line.append(_cell(project.bytes / other.bytes if project and other else None, ".3f"))
        line += [_cell(project and project.encode_ratio, ".3f"),
                 _cell(project and project.decode_ratio, ".3f")]
        lines.append(line)
    return render_table(SUMMARY_COLUMNS, lines) + "\n\n" + SUMMARY_LEGEND
