"""Figures 3 and 4 of the report page: one series raw against its roll-up, and what a retention
policy keeps over time (lib/report/page.py puts the page together). Both plots are drawn from this
run: the roll-up by the same library code as phase 5, the curve from phase 5's projected row.
"""
import html
import math

import numpy as np

from lib.data.dataset import DAY_NS, HOUR_NS, MINUTE_NS
from lib.report.svg import (
    COLOURS, axis_titles, circle, figure, legend, line, nice_ticks, polygon, polyline, rect, svg, text,
)
from lib.report.table import human_bytes
from lib.retention.policy import format_duration
from lib.rollup.kinds import GAUGE, metric_kind
from lib.rollup.levels import rollup_series
from lib.storage.rollup_files import resolution_label

MIN_BUCKETS_TO_DRAW = 24


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
    buckets = {name: rollup.aggregate(name)[drawn] for name in ("min", "max", "avg", "p99")}
    buckets["start"] = rollup.bucket_start[drawn]
    finite = np.isfinite(series.values)
    times, values = series.timestamps[finite], series.values[finite]
    left, top, plot_w, plot_h = 80, 16, 760, 300
    t0, t_max = int(series.timestamps[0]), max(int(series.timestamps[-1]) - int(series.timestamps[0]), 1)
    v_pad = (float(values.max()) - float(values.min())) * 0.05 or 1.0
    v_min, v_max = float(values.min()) - v_pad, float(values.max()) + v_pad

    def x_of(t):
        # Clamped to the plot: the first bucket may start before the first point.
        return min(max(left + plot_w * (int(t) - t0) / t_max, left), left + plot_w)

    def y_of(v):
        return top + plot_h * (1 - (float(v) - v_min) / (v_max - v_min))

    parts = [rect(left, top, plot_w, plot_h, "#fff", stroke="#888")]
    parts += rollup_marks(buckets, times, values, x_of, y_of, plot_w * resolution / t_max, left + plot_w)
    parts += time_and_value_axes((left, top, plot_w, plot_h), x_of, y_of, t0, t_max, (v_min, v_max))
    parts += axis_titles(left, top, plot_w, plot_h, "time since the first point (hours)",
                         f"{series.name} ({unit_of(series.name)})")
    label = resolution_label(resolution)
    keys = {"raw points": "#555", f"{label} min-max": COLOURS["sky"], f"{label} average": COLOURS["blue"],
            f"{label} p99 (sketch)": COLOURS["vermillion"]}
    caption = (f"{html.escape(series.display_name())}: {len(series):,} raw points against {len(rollup)} buckets of "
               f"{label}. The band keeps every spike's height, the average smooths it away: alert on max or p99 "
               f"from roll-ups, never on avg.")
    return plot_figure("rollup-vs-raw", "Raw points against their roll-up", parts, (left, top, plot_w, plot_h),
                       keys, caption)


def rollup_marks(buckets, times, values, x_of, y_of, bucket_w, right):
    """The min-max band of the buckets, the raw points, the average and p99 lines, and the highest
    raw point with its bucket's average beside it."""
    starts = buckets["start"]
    band_top = [(x_of(s), y_of(h)) for s, h in zip(starts, buckets["max"])]
    band_bottom = [(x_of(s), y_of(lo)) for s, lo in zip(starts, buckets["min"])]
    last_x = min(band_top[-1][0] + bucket_w, right)
    band = band_top + [(last_x, band_top[-1][1]), (last_x, band_bottom[-1][1])] + band_bottom[::-1]

    def middle_of(start):
        return min(x_of(start) + bucket_w / 2, right)

    peak = int(np.argmax(values))
    bucket = int(np.searchsorted(starts, times[peak], side="right") - 1)
    return [
        polygon(band, COLOURS["sky"], opacity=0.35),
        polyline([(x_of(t), y_of(v)) for t, v in zip(times, values)], "#555", width=0.7),
        polyline([(middle_of(s), y_of(a)) for s, a in zip(starts, buckets["avg"])], COLOURS["blue"], width=2.2),
        polyline([(middle_of(s), y_of(p)) for s, p in zip(starts, buckets["p99"])], COLOURS["vermillion"], width=2,
                 dash="6 3"),
        circle(x_of(times[peak]), y_of(values[peak]), 4, COLOURS["vermillion"]),
        text(min(x_of(times[peak]) + 8, right - 260), y_of(values[peak]) + 4,
             f"spike {values[peak]:.4g}; its bucket's average {buckets['avg'][bucket]:.4g}", size=12),
    ]


def time_and_value_axes(frame, x_of, y_of, t0, t_max, value_range):
    """Ticks of the value axis and of the hours since the first point."""
    left, top, _width, height = frame
    parts = []
    for v in nice_ticks(*value_range):
        parts += [line(left - 4, y_of(v), left, y_of(v), "#888"),
                  text(left - 8, y_of(v) + 4, f"{v:g}", size=11, anchor="end")]
    for hours in nice_ticks(0, t_max / HOUR_NS):
        t = t0 + hours * HOUR_NS
        parts += [line(x_of(t), top + height, x_of(t), top + height + 4, "#888"),
                  text(x_of(t), top + height + 16, f"{hours:g} h", size=11, anchor="middle")]
    return parts


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

    parts = [rect(left, top, plot_w, plot_h, "#fff", stroke="#888")]
    parts += days_and_bytes_axes((left, top, plot_w, plot_h), x_of, y_of, days, (low_b, high_b))
    parts += horizon_marks(curve, x_of, top, plot_h, left + plot_w)
    parts += [polyline([(x_of(d), y_of(b)) for d, b in zip(days, every)], COLOURS["blue"], width=2.2),
              polyline([(x_of(d), y_of(b)) for d, b in zip(days, tiered)], COLOURS["orange"], width=2.2, dash="7 3")]
    parts += [circle(x_of(d), y_of(b), 2.5, COLOURS["orange"], attrs={"data-days": d, "data-tiered-bytes": b})
              for d, b in zip(days, tiered)]
    parts += axis_titles(left, top, plot_w, plot_h, "days of the workload (log scale)", "bytes on disk (log scale)")
    keys = {"phase 4, every point kept": COLOURS["blue"], f"phase 4 + tiers {curve['policy']}": COLOURS["orange"]}
    year = days.index(365) if 365 in days else len(days) - 1
    caption = (f"A workload of {curve['series']:,} series every {curve['interval_s']:g} s, projected from this run's "
               f"measured sizes: after {days[year]} days the tiers hold {human_bytes(tiered[year])} against "
               f"{human_bytes(every[year])} with every point kept. {crossover_words(days, tiered, every)}")
    return plot_figure("retention", "What a retention policy keeps over time", parts, (left, top, plot_w, plot_h),
                       keys, caption)


def plot_figure(figure_id, title, parts, frame, keys, caption):
    """A plot's marks with its legend under it, as a titled figure with a caption."""
    left, top, width, height = frame
    parts = parts + legend(left, top + height + 50, keys)
    return figure(figure_id, title, svg(left + width + 20, top + height + 70, parts, title.lower()), caption)


def days_and_bytes_axes(frame, x_of, y_of, days, byte_range):
    """Grid lines at every power of ten bytes, and ticks at a day, a week, a month, a year, ten years."""
    left, top, width, height = frame
    parts = []
    for power in range(round(math.log10(byte_range[0])), round(math.log10(byte_range[1])) + 1):
        y = y_of(10 ** power)
        parts += [line(left, y, left + width, y, "#eee"),
                  text(left - 8, y + 4, human_bytes(10 ** power), size=11, anchor="end")]
    for d, label in ((1, "1 day"), (7, "1 week"), (30, "1 month"), (365, "1 year"), (3650, "10 years")):
        if days[0] <= d <= days[-1]:
            parts += [line(x_of(d), top + height, x_of(d), top + height + 4, "#888"),
                      text(x_of(d), top + height + 16, label, size=11, anchor="middle")]
    return parts


def horizon_marks(curve, x_of, top, height, right):
    """A vertical line where each roll-up tier starts deleting, labelled with its horizon."""
    parts = []
    for resolution, horizon_days in curve["tiers"][1:]:
        if curve["days"][0] <= horizon_days <= curve["days"][-1]:
            x = x_of(horizon_days)
            near_right = x > right - 90
            parts += [line(x, top, x, top + height, COLOURS["grey"]),
                      text(x - 3 if near_right else x + 3, top + 12,
                           f"{resolution} kept {format_duration(round(horizon_days * DAY_NS))}", size=11,
                           anchor="end" if near_right else "start")]
    return parts


def crossover_words(days, tiered, every):
    """When the tiers start costing less than keeping every point, in words."""
    cheaper = next((i for i, (t, e) in enumerate(zip(tiered, every)) if t < e), None)
    if cheaper is None:
        return "Over this span the tiers never cost less than keeping every point."
    when = f"from day {days[0]}" if cheaper == 0 else f"between {days[cheaper - 1]} and {days[cheaper]} days"
    return (f"Every level is written while the raw points are still kept, so the curves cross {when}; after "
            f"that the gap widens with every year in which only coarse buckets are added.")
