"""The report page: the run's lessons as pictures, in one self-contained HTML file.

`main.py` writes `output/report.html` after its table. Everything on the page comes from that run:
the table rows (the same dicts `main.py --json` writes) and the run's dataset file, encoded and
rolled up by the same library code the phases use. The page is plain HTML with inline SVG and CSS:
no script, nothing fetched, so it opens offline and prints.

Four figures, one lesson each:
  1. Gorilla's bits: a few consecutive values as the XOR encoder writes them, every field coloured,
     next to what the decimal codec stores for the same values;
  2. the size of every stage, in bytes per point on a log scale;
  3. one series drawn raw against its roll-up: min-max band, average and p99 per bucket, and the
     spike an average hides;
  4. what a retention policy keeps over time, against keeping every point (phase 5's projection).
The drawing helpers are small on purpose: a reader can see how every mark is placed.
"""
import html
import math
from pathlib import Path

import numpy as np

from lib.bitstream.stream import WORD_BITS
from lib.codecs.decimal_digits import smallest_exponents
from lib.codecs.gorilla import LEADING_ZEROS_BITS, MAX_LEADING_ZEROS, MEANINGFUL_BITS_BITS, VALUE_FIRST_BITS
from lib.data.dataset import load_dataset_for_phase
from lib.plumbing.atomic import write_bytes_atomically
from lib.report.svg import COLOURS, figure, legend, line, rect, svg, text
from lib.report.rollup_figures import retention_figure, rollup_figure
from lib.report.table import marked_name

REPORT_FILENAME = "report.html"
GORILLA_EXAMPLE_VALUES = 8

FIELD_COLOURS = {
    "first value": COLOURS["grey"],
    "control": COLOURS["orange"],
    "leading zeros": COLOURS["sky"],
    "length": COLOURS["green"],
    "meaningful bits": COLOURS["purple"],
}


def write_report_page(rows, output_dir):
    """Write `report.html` into `output_dir` from this run's rows and dataset; return its path."""
    series_list = load_dataset_for_phase(output_dir)
    page = build_report_page(rows, series_list)
    path = Path(output_dir) / REPORT_FILENAME
    write_bytes_atomically(path, page.encode("utf-8"))
    return path


def build_report_page(rows, series_list):
    figures = [gorilla_figure(series_list), sizes_figure(rows), rollup_figure(series_list), retention_figure(rows)]
    body = "\n".join(f for f in figures if f)
    return PAGE_TEMPLATE.format(css=PAGE_CSS, body=body)


# Figure 1: Gorilla's bits

def gorilla_records(values):
    """The Gorilla XOR stream of `values`, split into its fields: one list of (field, bits) a value.

    `bits` is a string of '0'/'1'. Joined in order and padded with zeros to whole bytes, the fields
    are exactly `lib.codecs.gorilla.encode_values_reference(values)` (a test holds them to that), so the
    picture shows the real encoding. Example: 12.0 then 24.0 XOR to 0x0010000000000000: 11 leading
    zeros, 1 meaningful bit -> '11' + '01011' + '000001' + '1'.
    """
    bits = [int(b) for b in np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)]
    if not bits:
        return []
    records = [[("first value", _binary(bits[0], VALUE_FIRST_BITS))]]
    window = None
    for previous, current in zip(bits, bits[1:]):
        xor = previous ^ current
        if xor == 0:
            records.append([("control", "0")])
            continue
        leading = min(WORD_BITS - xor.bit_length(), MAX_LEADING_ZEROS)
        trailing = (xor & -xor).bit_length() - 1
        if window is not None and leading >= window[0] and trailing >= window[1]:
            width = WORD_BITS - window[0] - window[1]
            records.append([("control", "10"), ("meaningful bits", _binary(xor >> window[1], width))])
        else:
            window = (leading, trailing)
            meaningful = WORD_BITS - leading - trailing
            records.append([
                ("control", "11"),
                ("leading zeros", _binary(leading, LEADING_ZEROS_BITS)),
                ("length", _binary(meaningful % WORD_BITS, MEANINGFUL_BITS_BITS)),
                ("meaningful bits", _binary(xor >> trailing, meaningful)),
            ])
    return records


def _binary(value, width):
    return format(value, f"0{width}b") if width else ""


def pick_decimal_example(series_list, count=GORILLA_EXAMPLE_VALUES):
    """A series whose first values are decimals (1 to 4 digits after the point) that all differ:
    where Gorilla does worst and the decimal codec best. None if the dataset has no such series."""
    for series in series_list:
        values = series.values[:count]
        if len(values) == count and np.all(np.isfinite(values)) and len(np.unique(values)) == count \
                and 1 <= smallest_exponents(values).max() <= 4:
            return series
    return None


def decimal_view(values):
    """What the decimal codec keeps of each value: (scaled integer, delta from the previous, bits).

    43.27 at e = 2 is the integer 4327; the next value 43.39 is 4339, a delta of +12, which zigzag
    maps to 24 and 5 bits store. Returns (e, rows).
    """
    exponent = int(smallest_exponents(values).max())
    integers = [round(float(v) * 10 ** exponent) for v in values]
    rows = []
    for i, integer in enumerate(integers):
        delta = integer - integers[i - 1] if i else None
        bits = None if delta is None else max(1, (2 * abs(delta) - (delta < 0)).bit_length())
        rows.append((integer, delta, bits))
    return exponent, rows


def gorilla_figure(series_list):
    series = pick_decimal_example(series_list)
    if series is None:
        return ""
    values = series.values[:GORILLA_EXAMPLE_VALUES]
    records = gorilla_records(values)
    exponent, decimal_rows = decimal_view(values)
    cell, row_height, label_width, left_gap = 8, 24, 70, 8
    widest = max(sum(len(b) for _, b in r) for r in records)
    bits_x = label_width + left_gap
    table_x = bits_x + widest * cell + 20
    columns = (("Gorilla", 0), (f"x 10^{exponent}", 62), ("delta", 122), ("bits", 180))
    width = table_x + 260
    height = 48 + row_height * len(records) + 40
    parts = [
        text(4, 18, "value", weight="bold"),
        text(bits_x, 18, "Gorilla XOR record, one box a bit", weight="bold"),
        text(table_x + 62, 18, "decimal codec", weight="bold"),
    ]
    parts.extend(text(table_x + x, 36, title, size=12, weight="bold") for title, x in columns)
    for i, (value, record, (integer, delta, bits)) in enumerate(zip(values, records, decimal_rows)):
        y = 44 + i * row_height
        parts.append(text(4, y + 15, f"{value:g}", family="monospace"))
        x = bits_x
        for field, field_bits in record:
            for bit in field_bits:
                parts.append(rect(x, y, cell - 0.5, row_height - 6, FIELD_COLOURS[field], title=field))
                parts.append(text(x + 1.2, y + 13, bit, size=9, family="monospace", fill="#000"))
                x += cell
        gorilla_bits = sum(len(b) for _, b in record)
        cells = (f"{gorilla_bits} bits", str(integer), "" if delta is None else f"{delta:+d}",
                 "" if bits is None else f"{bits} bits")
        attrs = ({"data-gorilla-bits": gorilla_bits}, None, None, None)
        parts.extend(text(table_x + x, y + 15, cell, family="monospace", attrs=a)
                     for (_, x), cell, a in zip(columns, cells, attrs))
    legend_y = 44 + len(records) * row_height + 16
    parts.extend(legend(bits_x, legend_y, FIELD_COLOURS))
    changed = records[1:]
    mean_bits = sum(sum(len(b) for _, b in r) for r in changed) / len(changed) if changed else 0
    deltas = [bits for _, _, bits in decimal_rows[1:]]
    caption = (
        f"Eight consecutive values of {html.escape(series.display_name())}. Gorilla spends "
        f"{mean_bits:.1f} bits on each of these values after the first (phase 3 prints the metric's average): a decimal such as 0.01 has no short "
        f"binary form, so the XOR of two neighbours keeps dozens of meaningful bits. "
        f"The decimal codec stores the same values as integers x 10^{exponent}; their deltas fit in "
        f"{max(deltas) if deltas else 0} bits or fewer."
    )
    return figure("gorilla-bits", "Gorilla's bits against the decimal codec",
                   svg(width, height, parts, "Gorilla XOR records, bit by bit"), caption)


# Figure 2: the size of every stage

def sizes_figure(rows):
    rows = [r for r in rows if r["points"] and r["bytes"]]
    if not rows:
        return ""
    label_width, bar_left, row_height, plot_width = 260, 270, 26, 520
    per_point = [r["bytes_per_point"] for r in rows]
    low = 10 ** math.floor(math.log10(min(per_point)))
    high = 10 ** math.ceil(math.log10(max(per_point)))
    decades = max(1, round(math.log10(high / low)))

    def x_of(value):
        return bar_left + plot_width * math.log10(value / low) / decades

    height = 30 + row_height * len(rows) + 50
    parts = []
    for d in range(decades + 1):
        tick = low * 10 ** d
        x = x_of(tick)
        parts.append(line(x, 20, x, 24 + row_height * len(rows), "#ccc"))
        parts.append(text(x - 8, 40 + row_height * len(rows), f"{tick:g}", size=11))
    for i, row in enumerate(rows):
        y = 24 + i * row_height
        colour = (COLOURS["grey"] if not isinstance(row["phase"], int)
                  else COLOURS["orange"] if row.get("projected") else COLOURS["blue"])
        label = f"{row['phase']}  {marked_name(row)}"
        parts.append(text(4, y + 15, label[:44], size=12))
        parts.append(rect(bar_left, y + 3, max(1.0, x_of(row["bytes_per_point"]) - bar_left), row_height - 8,
                           colour, title=f"{row['bytes']} bytes",
                           attrs={"data-phase": row["phase"], "data-bytes": row["bytes"],
                                  "data-bytes-per-point": row["bytes_per_point"]}))
        parts.append(text(x_of(row["bytes_per_point"]) + 6, y + 15, f"{row['bytes_per_point']:.2f} B/pt", size=12))
    parts.append(text(bar_left, height - 8, "bytes per point (log scale); grey: general-purpose "
                       "compressors on the NDJSON; orange *: a projected year, lossy", size=11))
    smallest = min((r for r in rows if not r.get("projected")), key=lambda r: r["bytes_per_point"])
    ndjson = next((r for r in rows if r["phase"] == 1), None)
    saving = f" {ndjson['bytes_per_point'] / smallest['bytes_per_point']:.0f} times fewer than NDJSON." if ndjson else ""
    caption = (
        f"NDJSON is the baseline; every later stage stores the same points in fewer bytes, and the log "
        f"scale shows each step as a distance. The smallest lossless one, {html.escape(smallest['name'])}, needs "
        f"{smallest['bytes_per_point']:.2f} bytes a point:{saving} A starred row is not these points: "
        f"see the last figure."
    )
    return figure("stage-sizes", "Bytes per point, stage by stage",
                   svg(label_width + plot_width + 130, height, parts, "size of every stage"), caption)


PAGE_CSS = """
body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-bottom: 0.3em; }
figure { margin: 0 0 2.5em 0; page-break-inside: avoid; }
figcaption { font-size: 0.95em; line-height: 1.4; max-width: 60em; }
svg { display: block; }
@media print { body { max-width: none; } }
"""

PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>squeezed-signals: the run in pictures</title>
<style>{css}</style>
</head>
<body>
<h1>squeezed-signals: the run in pictures</h1>
<p>Drawn from this run's table and dataset by <code>lib/report/page.py</code>; nothing here is typed in by hand.</p>
{body}
</body>
</html>
"""
