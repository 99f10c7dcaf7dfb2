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
from lib.rollup.kinds import COUNTER, GAUGE, LIGHT_FIELDS, STORED_FIELDS
from lib.storage.file_layout import CRC
from lib.storage.metrics_file import BLOCK_HEADER, MetricsFile, record_codec_usage
from lib.storage.rollup_files import RESOLUTION_LABEL, ROLLUP_LABEL, SKETCH_COLUMNS
from lib.tool.arguments import format_time

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
                record_codec_usage(usage, f.read_block_header(entry, number), name, length=block.length)
        summary = file_summary(f)
        summary["groups_by"] = "column" if rollup else "metric"
        summary["groups"] = [group_summary(name, usage, entries) for name, (entries, usage) in groups.items()]
        summary["labels"] = label_cardinality(f.series)
        summary["rollup"] = rollup_summary(f.series) if rollup else None
        summary["bytes_read"] = f.bytes_read
    return summary


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


def rollup_summary(entries):
    """Resolution, source series by kind, their columns, and buckets of a roll-up file."""
    sources = {}
    for entry in entries:
        key = (entry.name, tuple(sorted((k, v) for k, v in entry.labels.items() if k not in RESERVED_LABELS)))
        sources.setdefault(key, {})[entry.labels[ROLLUP_LABEL]] = entry
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
        print(f"  {g['name'][:32]:<32} {g['series']:>7,} {g['points']:>11,} {g['blocks']:>7,} "
              f"{g['bits_per_timestamp']:>8.2f} {g['bits_per_value']:>10.2f}  {codecs}")


def print_labels(d):
    if not d["labels"]:
        print("  no labels: one series per metric name")
        return
    print(f"  {'label':<32} {'values':>7} {'series':>7}")
    for row in d["labels"]:
        print(f"  {row['label'][:32]:<32} {row['values']:>7,} {row['series']:>7,}")
    top = d["labels"][0]
    per_value = top["series"] / top["values"]
    index_per_series = d["index_section_bytes"] / max(d["series"], 1)
    blocks_per_series = d["blocks"] / max(d["series"], 1)
    print(f"  {top['label']} has the most values ({top['values']:,}); each is in {per_value:,.1f} series on average, "
          f"so one more {top['label']} adds about {per_value:,.1f} series. A series costs {index_per_series:,.1f} bytes "
          f"of index and {blocks_per_series * FRAMING_BYTES:,.1f} bytes of block framing here, whatever its points.")
