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
from lib.data.dataset import DAY_NS, HOUR_NS, MINUTE_NS, load_dataset_for_phase
from lib.plumbing.atomic import write_bytes_atomically
from lib.report.table import human_bytes, marked_name
from lib.retention.policy import format_duration
from lib.rollup.kinds import GAUGE, metric_kind
from lib.rollup.levels import rollup_series
from lib.storage.rollup_files import resolution_label

REPORT_FILENAME = "report.html"
GORILLA_EXAMPLE_VALUES = 8
MIN_BUCKETS_TO_DRAW = 24

# Okabe-Ito: eight colours told apart with every common kind of colour-blindness.
COLOURS = {
    "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999",
}
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
        _text(4, 18, "value", weight="bold"),
        _text(bits_x, 18, "Gorilla XOR record, one box a bit", weight="bold"),
        _text(table_x + 62, 18, "decimal codec", weight="bold"),
    ]
    parts.extend(_text(table_x + x, 36, title, size=12, weight="bold") for title, x in columns)
    for i, (value, record, (integer, delta, bits)) in enumerate(zip(values, records, decimal_rows)):
        y = 44 + i * row_height
        parts.append(_text(4, y + 15, f"{value:g}", family="monospace"))
        x = bits_x
        for field, field_bits in record:
            for bit in field_bits:
                parts.append(_rect(x, y, cell - 0.5, row_height - 6, FIELD_COLOURS[field], title=field))
                parts.append(_text(x + 1.2, y + 13, bit, size=9, family="monospace", fill="#000"))
                x += cell
        gorilla_bits = sum(len(b) for _, b in record)
        cells = (f"{gorilla_bits} bits", str(integer), "" if delta is None else f"{delta:+d}",
                 "" if bits is None else f"{bits} bits")
        attrs = ({"data-gorilla-bits": gorilla_bits}, None, None, None)
        parts.extend(_text(table_x + x, y + 15, text, family="monospace", attrs=a)
                     for (_, x), text, a in zip(columns, cells, attrs))
    legend_y = 44 + len(records) * row_height + 16
    parts.extend(_legend(bits_x, legend_y, FIELD_COLOURS))
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
    return _figure("gorilla-bits", "Gorilla's bits against the decimal codec",
                   _svg(width, height, parts, "Gorilla XOR records, bit by bit"), caption)


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
        parts.append(_line(x, 20, x, 24 + row_height * len(rows), "#ccc"))
        parts.append(_text(x - 8, 40 + row_height * len(rows), f"{tick:g}", size=11))
    for i, row in enumerate(rows):
        y = 24 + i * row_height
        colour = (COLOURS["grey"] if not isinstance(row["phase"], int)
                  else COLOURS["orange"] if row.get("projected") else COLOURS["blue"])
        label = f"{row['phase']}  {marked_name(row)}"
        parts.append(_text(4, y + 15, label[:44], size=12))
        parts.append(_rect(bar_left, y + 3, max(1.0, x_of(row["bytes_per_point"]) - bar_left), row_height - 8,
                           colour, title=f"{row['bytes']} bytes",
                           attrs={"data-phase": row["phase"], "data-bytes": row["bytes"],
                                  "data-bytes-per-point": row["bytes_per_point"]}))
        parts.append(_text(x_of(row["bytes_per_point"]) + 6, y + 15, f"{row['bytes_per_point']:.2f} B/pt", size=12))
    parts.append(_text(bar_left, height - 8, "bytes per point (log scale); grey: general-purpose "
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
    return _figure("stage-sizes", "Bytes per point, stage by stage",
                   _svg(label_width + plot_width + 130, height, parts, "size of every stage"), caption)


# Figure 3: one series raw against its roll-up

def pick_spiky_gauge(series_list):
    """The gauge whose highest point stands furthest above its bucket's average, in units of the
    series' spread: the one where an average hides the most."""
    best, best_score = None, -1.0
    for series in series_list:
        values = series.values
        finite = values[np.isfinite(values)]
        if len(finite) < 50 or metric_kind(series.name, values) != GAUGE:
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            spread, extent = float(np.std(finite)), float(finite.max() - finite.min())
        if not (0 < spread < np.inf and extent < np.inf):  # nothing to draw, or beyond float range
            continue
        score = (float(finite.max()) - float(np.median(finite))) / spread
        if score > best_score:
            best, best_score = series, score
    return best


def drawing_resolution(series):
    """The coarsest of 1 h, 15 m, 5 m, 1 m that still gives enough buckets to draw a band."""
    span = int(series.timestamps[-1]) - int(series.timestamps[0])
    for resolution in (HOUR_NS, 15 * MINUTE_NS, 5 * MINUTE_NS, MINUTE_NS):
        if span // resolution >= MIN_BUCKETS_TO_DRAW:
            return resolution
    return MINUTE_NS


def rollup_figure(series_list):
    series = pick_spiky_gauge(series_list)
    if series is None:
        return ""
    resolution = drawing_resolution(series)
    rollup = rollup_series(series, (resolution,))[resolution]
    # Buckets whose points were all NaN have no min, max or average to draw: leave them out.
    drawn = np.isfinite(rollup.aggregate("min")) & np.isfinite(rollup.aggregate("max"))
    starts = rollup.bucket_start[drawn]
    lows, highs = rollup.aggregate("min")[drawn], rollup.aggregate("max")[drawn]
    averages, p99s = rollup.aggregate("avg")[drawn], rollup.aggregate("p99")[drawn]
    t0 = int(series.timestamps[0])
    finite = np.isfinite(series.values)
    times, values = series.timestamps[finite], series.values[finite]
    left, top, plot_w, plot_h = 80, 16, 760, 300
    t_max = max(int(series.timestamps[-1]) - t0, 1)
    v_min, v_max = float(values.min()), float(values.max())
    v_pad = (v_max - v_min) * 0.05 or 1.0
    v_min, v_max = v_min - v_pad, v_max + v_pad

    def x_of(t):
        # Clamped to the plot: the first bucket may start before the first point.
        return min(max(left + plot_w * (int(t) - t0) / t_max, left), left + plot_w)

    def y_of(v):
        return top + plot_h * (1 - (float(v) - v_min) / (v_max - v_min))

    parts = [_rect(left, top, plot_w, plot_h, "#fff", stroke="#888")]
    band_top = [(x_of(s), y_of(h)) for s, h in zip(starts, highs)]
    band_bottom = [(x_of(s), y_of(lo)) for s, lo in zip(starts, lows)]
    bucket_w = plot_w * resolution / t_max
    last_x = min(band_top[-1][0] + bucket_w, left + plot_w)
    band = band_top + [(last_x, band_top[-1][1]), (last_x, band_bottom[-1][1])] + band_bottom[::-1]
    parts.append(_polygon(band, COLOURS["sky"], opacity=0.35))
    parts.append(_polyline([(x_of(t), y_of(v)) for t, v in zip(times, values)], "#555", width=0.7))

    def middle_of(start):
        return min(x_of(start) + bucket_w / 2, left + plot_w)

    parts.append(_polyline([(middle_of(s), y_of(a)) for s, a in zip(starts, averages)], COLOURS["blue"], width=2.2))
    parts.append(_polyline([(middle_of(s), y_of(p)) for s, p in zip(starts, p99s)], COLOURS["vermillion"],
                           width=2, dash="6 3"))
    peak = int(np.argmax(values))
    bucket = int(np.searchsorted(starts, times[peak], side="right") - 1)
    parts.append(_circle(x_of(times[peak]), y_of(values[peak]), 4, COLOURS["vermillion"]))
    label_x = min(x_of(times[peak]) + 8, left + plot_w - 260)
    parts.append(_text(label_x, y_of(values[peak]) + 4,
                       f"spike {values[peak]:.4g}; its bucket's average {averages[bucket]:.4g}", size=12))
    for v in nice_ticks(v_min, v_max):
        parts.append(_line(left - 4, y_of(v), left, y_of(v), "#888"))
        parts.append(_text(left - 8, y_of(v) + 4, f"{v:g}", size=11, anchor="end"))
    for hours in nice_ticks(0, t_max / HOUR_NS):
        t = t0 + hours * HOUR_NS
        parts.append(_line(x_of(t), top + plot_h, x_of(t), top + plot_h + 4, "#888"))
        parts.append(_text(x_of(t), top + plot_h + 16, f"{hours:g} h", size=11, anchor="middle"))
    parts.append(_text(left + plot_w / 2, top + plot_h + 34, "time since the first point (hours)", size=11,
                       anchor="middle"))
    parts.append(_vertical_title(14, top + plot_h / 2, f"{series.name} ({unit_of(series.name)})"))
    legend = {"raw points": "#555", f"{resolution_label(resolution)} min-max": COLOURS["sky"],
              f"{resolution_label(resolution)} average": COLOURS["blue"], f"{resolution_label(resolution)} p99 (sketch)": COLOURS["vermillion"]}
    parts.extend(_legend(left, top + plot_h + 50, legend))
    caption = (
        f"{html.escape(series.display_name())}: {len(series):,} raw points against "
        f"{len(rollup)} buckets of {resolution_label(resolution)}. The band keeps every spike's height, the "
        f"average smooths it away: alert on max or p99 from roll-ups, never on avg."
    )
    return _figure("rollup-vs-raw", "Raw points against their roll-up",
                   _svg(left + plot_w + 20, top + plot_h + 70, parts, "raw series and roll-up"), caption)


def nice_ticks(low, high, target=5):
    """Round tick values between low and high: 1, 2 or 5 times a power of ten apart.

    nice_ticks(0, 4.8) -> [0, 1, 2, 3, 4]; nice_ticks(-0.05, 1.7) -> [0, 0.5, 1, 1.5].
    """
    span = high - low
    if not span > 0:
        return [low]
    raw_step = span / target
    power = 10 ** math.floor(math.log10(raw_step))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw_step)
    first = math.ceil(low / step)
    return [round(k * step, 12) for k in range(first, math.floor(high / step) + 1)]


UNITS_BY_SUFFIX = (("_seconds", "seconds"), ("_percent", "%"), ("_bytes", "bytes"), ("_celsius", "°C"),
                   ("_total", "count"))


def unit_of(name):
    """The unit a Prometheus metric name ends with: http_request_duration_seconds -> seconds."""
    return next((unit for suffix, unit in UNITS_BY_SUFFIX if name.endswith(suffix)), "value")


def retention_figure(rows):
    """Stored bytes against days of a workload, every point kept and under the retention policy,
    from the projected row's `storage_over_time` (log-log, so 7 days and 7 years both show)."""
    curve = next((r["storage_over_time"] for r in rows if r.get("storage_over_time")), None)
    if curve is None:
        return ""
    days, every, tiered = curve["days"], curve["every_point_bytes"], curve["tiered_bytes"]
    left, top, plot_w, plot_h = 90, 16, 740, 280
    low_b = 10 ** math.floor(math.log10(min(tiered + every)))
    high_b = 10 ** math.ceil(math.log10(max(tiered + every)))

    def x_of(d):
        return left + plot_w * math.log10(d / days[0]) / math.log10(days[-1] / days[0])

    def y_of(b):
        return top + plot_h * (1 - math.log10(b / low_b) / math.log10(high_b / low_b))

    parts = [_rect(left, top, plot_w, plot_h, "#fff", stroke="#888")]
    for power in range(round(math.log10(low_b)), round(math.log10(high_b)) + 1):
        y = y_of(10 ** power)
        parts.append(_line(left, y, left + plot_w, y, "#eee"))
        parts.append(_text(left - 8, y + 4, human_bytes(10 ** power), size=11, anchor="end"))
    for d, label in ((1, "1 day"), (7, "1 week"), (30, "1 month"), (365, "1 year"), (3650, "10 years")):
        if days[0] <= d <= days[-1]:
            parts.append(_line(x_of(d), top + plot_h, x_of(d), top + plot_h + 4, "#888"))
            parts.append(_text(x_of(d), top + plot_h + 16, label, size=11, anchor="middle"))
    for resolution, horizon_days in curve["tiers"][1:]:
        horizon = format_duration(round(horizon_days * DAY_NS))
        if days[0] <= horizon_days <= days[-1]:
            x = x_of(horizon_days)
            parts.append(_line(x, top, x, top + plot_h, COLOURS["grey"]))
            near_right = x > left + plot_w - 90
            parts.append(_text(x - 3 if near_right else x + 3, top + 12, f"{resolution} kept {horizon}", size=11,
                               anchor="end" if near_right else "start"))
    parts.append(_polyline([(x_of(d), y_of(b)) for d, b in zip(days, every)], COLOURS["blue"], width=2.2))
    parts.append(_polyline([(x_of(d), y_of(b)) for d, b in zip(days, tiered)], COLOURS["orange"], width=2.2,
                           dash="7 3"))
    parts.extend(_circle(x_of(d), y_of(b), 2.5, COLOURS["orange"], attrs={"data-days": d, "data-tiered-bytes": b})
                 for d, b in zip(days, tiered))
    parts.append(_text(left + plot_w / 2, top + plot_h + 34, "days of the workload (log scale)", size=11,
                       anchor="middle"))
    parts.append(_vertical_title(14, top + plot_h / 2, "bytes on disk (log scale)"))
    legend = {"phase 4, every point kept": COLOURS["blue"], f"phase 4 + tiers {curve['policy']}": COLOURS["orange"]}
    parts.extend(_legend(left, top + plot_h + 52, legend))
    year = days.index(365) if 365 in days else len(days) - 1
    cheaper = next((i for i, (t, e) in enumerate(zip(tiered, every)) if t < e), None)
    if cheaper is None:
        crossover = "Over this span the tiers never cost less than keeping every point."
    else:
        when = f"from day {days[0]}" if cheaper == 0 else f"between {days[cheaper - 1]} and {days[cheaper]} days"
        crossover = (f"Every level is written while the raw points are still kept, so the curves cross "
                     f"{when}; after that the gap widens with every year in which only coarse buckets "
                     f"are added.")
    caption = (
        f"A workload of {curve['series']:,} series every {curve['interval_s']:g} s, projected from this run's "
        f"measured sizes: after {days[year]} days the tiers hold {human_bytes(tiered[year])} against "
        f"{human_bytes(every[year])} with every point kept. {crossover}"
    )
    return _figure("retention", "What a retention policy keeps over time",
                   _svg(left + plot_w + 20, top + plot_h + 64, parts, "storage over time"), caption)


def _attributes(attrs):
    return "".join(f' {k}="{html.escape(str(v))}"' for k, v in (attrs or {}).items())


def _svg(width, height, parts, label):
    return (f'<svg viewBox="0 0 {width:.0f} {height:.0f}" width="100%" role="img" '
            f'aria-label="{html.escape(label)}" xmlns="http://www.w3.org/2000/svg">' + "".join(parts) + "</svg>")


def _text(x, y, text, size=13, weight="normal", family="sans-serif", fill="#222", anchor="start", attrs=None):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" font-family="{family}" '
            f'fill="{fill}" text-anchor="{anchor}"{_attributes(attrs)}>{html.escape(str(text))}</text>')


def _vertical_title(x, y, text):
    """An axis title written bottom to top, centred on (x, y)."""
    return _text(x, y, text, size=11, anchor="middle", attrs={"transform": f"rotate(-90 {x} {y:.1f})"})


def _rect(x, y, w, h, fill, stroke="none", title=None, attrs=None):
    inner = f"<title>{html.escape(title)}</title>" if title else ""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
            f'stroke="{stroke}"{_attributes(attrs)}>{inner}</rect>')


def _line(x1, y1, x2, y2, colour):
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"/>'


def _points(points):
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _polyline(points, colour, width=1.0, dash=None):
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<polyline points="{_points(points)}" fill="none" stroke="{colour}" '
            f'stroke-width="{width}"{dashes}/>')


def _polygon(points, colour, opacity=1.0):
    return f'<polygon points="{_points(points)}" fill="{colour}" fill-opacity="{opacity}" stroke="none"/>'


def _circle(x, y, r, colour, attrs=None):
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"{_attributes(attrs)}/>'


def _legend(x, y, colours):
    parts = []
    for name, colour in colours.items():
        parts.append(_rect(x, y - 10, 12, 12, colour))
        parts.append(_text(x + 16, y, name, size=12))
        x += 16 + 7.5 * len(name) + 18
    return parts


def _figure(figure_id, title, svg, caption):
    return (f'<figure id="{figure_id}">\n<h2>{html.escape(title)}</h2>\n{svg}\n'
            f"<figcaption>{caption}</figcaption>\n</figure>")


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
