"""`squeeze.py inspect`: what a METRICS! file holds, from its index and the 10-byte header of each block.

Nothing is decoded. The index gives series, points and time ranges; each block's header gives its
two codec tags and the length of its timestamp stream, so the bytes of every stream are known
(bits per timestamp and per value, the codecs each metric's blocks chose). Label cardinality comes
from the index too: a series is a metric name and one value of each of its labels, so the label
with the most values is what multiplies the series count, and every extra series costs index
bytes and block framing whatever its points (the cost of high cardinality). A roll-up file
(lib/storage/rollup_files.py) is recognised by its reserved labels: its resolution, columns and
buckets are listed, and its streams are shown per column instead of per metric.
"""
from lib.report.text import shorten, wrap
from lib.rollup.kinds import COUNTER, GAUGE, LIGHT_FIELDS, STORED_FIELDS
from lib.storage.file_layout import CRC
from lib.storage.metrics_file import BLOCK_HEADER, MetricsFile, record_codec_usage
from lib.storage.rollup_files import (
    RESOLUTION_LABEL, ROLLUP_FILE_GLOB, ROLLUP_FILE_PREFIX, ROLLUP_LABEL, SKETCH_COLUMNS,
)
from lib.tool.arguments import format_time
from lib.tool.rollups import built_from, default_folder

RESERVED_LABELS = (ROLLUP_LABEL, RESOLUTION_LABEL)
FRAMING_BYTES = BLOCK_HEADER.size + CRC.size


def describe(path):
    """Everything `inspect` prints, as a dict (its --json)."""
    with MetricsFile(path) as f:
        rollup = bool(f.series) and all(ROLLUP_LABEL in e.labels for e in f.series)
        groups = {}  # metric name (a roll-up file: column name) -> (its series entries, their codec usage)
        for entry in f.series:
            name = entry.labels[ROLLUP_LABEL] if rollup else entry.name
            entries, usage = groups.setdefault(name, ([], {}))
            entries.append(entry)
            for number, block in enumerate(entry.blocks):
                record_codec_usage(usage, f.read_block_header(entry, number), name, block_length=block.length)
        summary = file_summary(f)
        summary["groups_by"] = "column" if rollup else "metric"
        summary["groups"] = [group_summary(name, usage, entries) for name, (entries, usage) in groups.items()]
        summary["rollup"] = rollup_summary(f.series) if rollup else None
        # In a roll-up file a series is one of its sources, whose columns are series of the file.
        sources = {source_key(e): e for e in f.series}.values() if rollup else f.series
        summary["labels"] = label_cardinality(sources)
        summary["source_series"] = len(sources)
        summary["bytes_read"] = f.bytes_read
        summary["rollups"] = None if rollup else rollups_beside(f)
    return summary


def rollups_beside(f):
    """The roll-up levels `squeeze.py rollup` left beside the file (FILE.rollups), and whether
    they were built from this version of it; None when there are none."""
    folder = default_folder(f.path)
    levels = sorted(folder.glob(ROLLUP_FILE_GLOB)) if folder.is_dir() else []
    if not levels:
        return None
    return {"folder": str(folder), "levels": [p.stem.removeprefix(ROLLUP_FILE_PREFIX) for p in levels],
            "current": bool(built_from(folder, f))}


def file_summary(f):
    present = [e for e in f.series if e.points]
    blocks = sum(len(e.blocks) for e in f.series)
    return {
        "file": str(f.path), "version": f.version, "bytes": f.file_size, "block_points": f.block_points,
        "series": len(f.series), "points": sum(e.points for e in f.series), "blocks": blocks,
        "start_ns": min((e.min_timestamp for e in present), default=None),
        "end_ns": max((e.max_timestamp for e in present), default=None),
        "block_framing_bytes": blocks * FRAMING_BYTES, "layout_bytes": f.layout.overhead,
        "index_section_bytes": f.layout.index_length,
    }


def group_summary(name, usage, entries):
    """Series, points, blocks, bits per timestamp and per value, and the codecs of one metric (or column)."""
    points = sum(e.points for e in entries)

    def column(which):
        rows = usage.get(which, {})
        stream_bytes = sum(row["bytes"] for row in rows.values())
        return {codec: row["points"] for codec, row in rows.items()}, 8 * stream_bytes / points if points else 0.0, stream_bytes

    timestamp_codecs, timestamp_bits, timestamp_bytes = column("timestamps")
    value_codecs, value_bits, value_bytes = column("values")
    return {"name": name, "series": len(entries), "points": points, "blocks": sum(len(e.blocks) for e in entries),
            "timestamp_bytes": timestamp_bytes, "value_bytes": value_bytes,
            "bits_per_timestamp": timestamp_bits, "bits_per_value": value_bits,
            "timestamp_codecs": timestamp_codecs, "value_codecs": value_codecs}


def label_cardinality(entries):
    """Per label name (reserved roll-up labels aside): distinct values and series carrying it, most values first."""
    values, carriers = {}, {}
    for entry in entries:
        for key, value in entry.labels.items():
            if key not in RESERVED_LABELS:
                values.setdefault(key, set()).add(value)
                carriers[key] = carriers.get(key, 0) + 1
    rows = [{"label": key, "values": len(values[key]), "series": carriers[key]} for key in values]
    return sorted(rows, key=lambda row: (-row["values"], row["label"]))


def source_key(entry):
    """The identity of the series a roll-up column was made from: its name and labels but the reserved ones."""
    return entry.name, tuple(sorted((k, v) for k, v in entry.labels.items() if k not in RESERVED_LABELS))


def rollup_summary(entries):
    """Resolution, source series by kind, their columns, and buckets of a roll-up file."""
    sources = {}
    for entry in entries:
        sources.setdefault(source_key(entry), {})[entry.labels[ROLLUP_LABEL]] = entry
    kinds = {}
    for columns in sources.values():
        kind = COUNTER if "increase" in columns else GAUGE
        names = tuple(c for c in STORED_FIELDS[kind] if c in columns)
        row = kinds.setdefault(kind, {"series": 0, "buckets": 0, "columns": names,
                                      "light": set(columns) == set(LIGHT_FIELDS[kind]),
                                      "sketch": any(c in columns for c in SKETCH_COLUMNS)})
        row["series"] += 1
        row["buckets"] += columns["count"].points if "count" in columns else 0
    resolutions = sorted({e.labels.get(RESOLUTION_LABEL, "?") for e in entries})
    return {"resolution": ", ".join(resolutions), "series": len(sources), "kinds": kinds}


def print_description(d):
    span = "" if d["start_ns"] is None else (f", {format_time(d['start_ns'])} to {format_time(d['end_ns'])} "
                                             f"({(d['end_ns'] - d['start_ns']) / 3.6e12:,.1f} h)")
    print(f"{d['file']}: METRICS! format version {d['version']}, {d['bytes']:,} bytes, blocks of at most "
          f"{d['block_points']:,} points")
    print(f"  {d['series']:,} series, {d['points']:,} points in {d['blocks']:,} blocks{span}")
    timestamps = sum(g["timestamp_bytes"] for g in d["groups"])
    values = sum(g["value_bytes"] for g in d["groups"])
    points = max(d["points"], 1)
    print(f"  bytes: timestamp streams {timestamps:,} ({8 * timestamps / points:.2f} bits a point), value streams "
          f"{values:,} ({8 * values / points:.2f} bits a point),")
    print(f"         block framing {d['block_framing_bytes']:,}, header, index and footer {d['layout_bytes']:,}")
    if d["rollup"]:
        print_rollup(d["rollup"])
    if d["rollups"]:
        state = "built from this file" if d["rollups"]["current"] else "built from another version: run rollup again"
        print(f"  roll-ups in {d['rollups']['folder']}: {', '.join(d['rollups']['levels'])} ({state})")
    print_groups(d["groups_by"], d["groups"])
    print_labels(d)


def print_rollup(rollup):
    print(f"  roll-up file at {rollup['resolution']}: {rollup['series']:,} series rolled up")
    for kind, row in sorted(rollup["kinds"].items()):
        sketch = " + DDSketch (" + ", ".join(SKETCH_COLUMNS) + ")" if row["sketch"] else ""
        light = "light: " if row["light"] else ""
        print(f"    {row['series']:,} {kind}s, {row['buckets']:,} buckets, {light}{', '.join(row['columns'])}{sketch}")


def print_groups(by, groups):
    print(f"  {by:<32} {'series':>7} {'points':>11} {'blocks':>7} {'bits/ts':>8} {'bits/value':>10}  value codecs")
    for g in groups:
        codecs = ", ".join(f"{codec} {100 * points / max(g['points'], 1):.0f}%" for codec, points in
                           sorted(g["value_codecs"].items(), key=lambda item: -item[1]))
        print(f"  {shorten(g['name'], 32):<32} {g['series']:>7,} {g['points']:>11,} {g['blocks']:>7,} "
              f"{g['bits_per_timestamp']:>8.2f} {g['bits_per_value']:>10.2f}  {codecs}")


def print_labels(d):
    if not d["labels"]:
        print("  no labels: one series per metric name")
        return
    print(f"  {'label':<32} {'values':>7} {'series':>7}")
    for row in d["labels"]:
        print(f"  {shorten(row['label'], 32):<32} {row['values']:>7,} {row['series']:>7,}")
    top = d["labels"][0]
    per_value = top["series"] / top["values"]
    index_per_series = d["index_section_bytes"] / max(d["source_series"], 1)
    blocks_per_series = d["blocks"] / max(d["source_series"], 1)
    print(wrap(f"{top['label']} has the most values ({top['values']:,}); each is in {per_value:,.1f} series on "
               f"average, so one more {top['label']} adds about {per_value:,.1f} series. A series costs "
               f"{index_per_series:,.1f} bytes of index and {blocks_per_series * FRAMING_BYTES:,.1f} bytes of block "
               f"framing here, whatever its points."))
