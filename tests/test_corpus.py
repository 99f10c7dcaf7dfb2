"""benchmarks/corpus.py: every class is seeded, has its advertised shape and the representation its
exporter gives it; compare_peers.py --corpus runs on it and verifies every round trip."""
import json

import numpy as np
import pytest

from benchmarks import corpus, corpus_sensors
from benchmarks.corpus_metrics import extrapolated_rates
from benchmarks.corpus_real import tmy3_utc
from lib.data.dataset import NS_PER_MS, NS_PER_SECOND, first_difference
from tests.test_compare_peers import cp

SMALL = 0.02
GENERATED = [c.name for c in corpus.CLASSES if c.package is None]
LOW_29_BITS = np.uint64((1 << 29) - 1)
GO_NAN = 0x7FF8000000000001
STALE_NAN = 0x7FF0000000000002


def values_of(series_list):
    return np.concatenate([s.values for s in series_list])


def bits(values):
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def ulps_from_float32(values):
    """How many float64 steps each value lies from the float32 it rounds to."""
    nearest = values.astype(np.float32).astype(np.float64)
    return np.abs(bits(values).astype(np.int64) - bits(nearest).astype(np.int64))


@pytest.fixture(scope="module")
def full():
    """Every generated class at scale 1, built once."""
    return {name: corpus.build(name) for name in GENERATED}


# Seeded, sized, shaped

@pytest.mark.parametrize("name", GENERATED)
def test_a_class_is_the_same_for_the_same_seed_and_differs_for_another(name):
    first, again = corpus.build(name, seed=7, scale=SMALL), corpus.build(name, seed=7, scale=SMALL)
    assert first_difference(first, again) is None
    other = corpus.build(name, seed=8, scale=SMALL)
    assert first_difference(first, other) is not None


def test_every_class_has_its_advertised_shape_and_about_200k_points(full):
    for name, series_list in full.items():
        klass = corpus.get(name)
        series_count, points = klass.shape(1.0)
        assert len(series_list) == series_count, name
        assert {len(s) for s in series_list} == {points}, name
        if not klass.scales_series:
            assert 150_000 <= series_count * points <= 250_000, name
    assert corpus.get("high_cardinality").shape(1.0) == (10_000, 120)


@pytest.mark.parametrize("name", GENERATED)
def test_scale_shrinks_points_per_series_or_for_shape_classes_the_series(name):
    klass = corpus.get(name)
    series_list = corpus.build(name, scale=SMALL)
    if klass.scales_series:
        assert len(series_list) == round(klass.series * SMALL) and len(series_list[0]) == klass.points
    else:
        assert len(series_list) == klass.series
        assert {len(s) for s in series_list} == {round(klass.points * SMALL)}


def test_timestamps_go_up_and_only_events_share_a_millisecond(full):
    for name, series_list in full.items():
        steps = np.concatenate([np.diff(s.timestamps) for s in series_list])
        assert steps.min() >= 0, name
        assert (steps == 0).any() == (name == "events_ms"), name


def test_unknown_class_and_bad_scale_are_refused():
    with pytest.raises(ValueError, match="no corpus class 'nope'"):
        corpus.build("nope")
    with pytest.raises(ValueError, match="scale"):
        corpus.build("constants", scale=0)


# Representations

def test_modbus_registers_are_all_exact_float32(full):
    values = values_of(full["float32_modbus"])
    assert np.isfinite(values).all()
    assert not (bits(values) & LOW_29_BITS).any()


# metric -> the sensor's step, as the logger prints it
HOURLY_STEPS = {
    "air_temperature_celsius": "0.02", "relative_humidity_percent": "0.05",
    "barometric_pressure_hectopascals": "0.025", "water_level_meters": "0.003",
    "soil_moisture_ratio": "0.0005", "wind_speed_meters_per_second": "0.02", "water_ph": "0.005",
    "dissolved_oxygen_milligrams_per_liter": "0.02",
}


def test_hourly_sensors_mix_float32_and_their_16_digit_reprints_as_the_held_out_set(full):
    series_list = full["float32_hourly_mixed"]
    values = values_of(series_list)
    float32s = values.astype(np.float32).astype(np.float64)
    reprinted = np.array([float(f"{v:.16g}") for v in float32s.tolist()])
    # Every value is its float32, or that float32 printed with 16 significant digits and parsed back.
    assert ((bits(values) == bits(float32s)) | (bits(values) == bits(reprinted))).all()
    exact = ~(bits(values) & LOW_29_BITS).astype(bool)
    assert 0.7 <= exact.mean() <= 0.85
    off = ulps_from_float32(values)[~exact]
    assert (off == 1).mean() > 0.5 and off.max() <= 8
    for s in series_list:
        distinct = np.unique(s.values.astype(np.float32))
        assert 100 <= len(distinct) <= 5000, s.display_name()
        step = HOURLY_STEPS[s.name]
        places, size = len(step.split(".")[1]), float(step)
        on_step = [np.float32(float(f"{round(v / size) * size:.{places}f}")) for v in distinct.tolist()]
        assert np.array_equal(np.array(on_step, dtype=np.float32), distinct), s.display_name()
        assert (np.diff(s.timestamps) % (3600 * NS_PER_SECOND) == 0).all()


def test_binary_fractions_are_multiples_of_1_1024_and_temperatures_of_1_16(full):
    for s in full["binary_fractions"]:
        scaled = s.values * (16 if s.name.startswith("ds18b20") else 1024)
        assert np.array_equal(scaled, np.rint(scaled)), s.display_name()
    adc = values_of([s for s in full["binary_fractions"] if s.name.startswith("adc")])
    assert 0 <= adc.min() and adc.max() < 1


STEP_CONSTRUCTIONS = {
    "k * 0.3": (lambda v: np.rint(v / 0.3), lambda k: k * 0.3),
    "k * 0.2794": (lambda v: np.rint(v / 0.2794), lambda k: k * 0.2794),
    "k / 800": (lambda v: np.rint(v * 800), lambda k: k / 800),
    "k / 3": (lambda v: np.rint(v * 3), lambda k: k / 3),
}


def test_float32_scaled_counts_are_float32_products_some_printed_with_16_digits(full):
    exact_counts = []
    for s in full["float32_scaled_counts"]:
        (factor,) = {f for name, _, f in corpus_sensors.FLOAT32_SCALED if name == s.name}
        products = (np.rint(s.values / np.float64(factor)).astype(np.float32) * factor).astype(np.float64)
        steps = np.abs(s.values.view(np.int64) - products.view(np.int64))
        assert (steps <= 4).all(), s.display_name()  # reprinted values lie a float64 step or two away
        exact_counts.append(int((steps == 0).sum()))
    points = sum(len(s) for s in full["float32_scaled_counts"])
    assert 0.1 * points < sum(exact_counts) < 0.9 * points  # float32 products, and reprints that moved


def test_step_products_are_k_times_or_over_a_non_decimal_step_in_float64(full):
    found = set()
    for s in full["float_step_products"]:
        matches = [name for name, (to_k, to_value) in STEP_CONSTRUCTIONS.items()
                   if np.array_equal(bits(to_value(to_k(s.values))), bits(s.values))]
        assert matches, s.display_name()
        found.add(matches[0])
    assert found == set(STEP_CONSTRUCTIONS)
    assert 3 * 0.3 in values_of(full["float_step_products"])  # 0.8999999999999999, not 0.9


def test_rates_are_on_a_60_s_grid_and_at_full_precision(full):
    for s in full["prometheus_rate"]:
        assert (s.timestamps % (60 * NS_PER_SECOND) == 0).all() and (s.values > 0).all()
    values = values_of(full["prometheus_rate"])
    short = np.array([float(f"{v:.10g}") == v for v in values[:20_000].tolist()])
    assert short.mean() < 0.05


def rate_at(sample_s, values, at_s):
    sample_ms = np.asarray(sample_s, dtype=np.int64) * 1000
    eval_ms, rates = extrapolated_rates(sample_ms, np.asarray(values, dtype=np.float64))
    return dict(zip((eval_ms // 1000).tolist(), rates.tolist()))[at_s]


def test_rate_follows_prometheus_extrapolation_on_hand_computed_windows():
    times = [5 + 15 * k for k in range(40)]
    # Window (0, 300]: samples at 5 .. 290, +10 each: increase 190 over 285 s sampled; 5 s to the
    # start and 10 s to the end are below 1.1 x 15 s, so it extrapolates to 300 s: 190 / 285 per s.
    assert rate_at(times, [100 + 10 * k for k in range(40)], 300) == pytest.approx(2 / 3, abs=1e-15)
    # A counter that started at 0 at 5 s: zero lies 0 s before the first sample, so only the end
    # is extrapolated: 190 * 295 / 285 / 300.
    assert rate_at(times, [10 * k for k in range(40)], 300) == pytest.approx(190 * 295 / 285 / 300, abs=1e-15)
    # A restart at 155 s: 100 .. 190 until 140 s, then 5 .. 95 at 290 s; the increase adds the 190
    # lost at the reset: 95 - 100 + 190 = 185, extrapolated to 300 s.
    restarted = [100 + 10 * k if k < 10 else 5 + 10 * (k - 10) for k in range(40)]
    assert rate_at(times, restarted, 300) == pytest.approx(185 / 285, abs=1e-15)
    # A gap: samples from 50 s only; 50 s to the start is beyond 1.1 x 15 s, so half an interval
    # (7.5 s) is added there: increase 160 over 240 s, extrapolated to 257.5 s.
    late = [t for t in times if t >= 50]
    assert rate_at(late, [1000 + 10 * k for k in range(len(late))], 300) == pytest.approx(
        160 * 257.5 / 240 / 300, abs=1e-15)


def test_ratios_lie_in_0_1_as_full_precision_quotients(full):
    values = values_of(full["ratios"])
    assert values.min() >= 0 and values.max() <= 1
    short = np.array([float(f"{v:.6g}") == v for v in values.tolist()])
    assert short.mean() < 0.1


def test_byte_counters_are_integers_up_to_2_53_with_resets_to_zero(full):
    resets = 0
    for s in full["byte_counters"]:
        v = s.values
        assert np.array_equal(v, np.floor(v)) and v.max() <= 2.0**53, s.display_name()
        steps = np.diff(v)
        drops = np.flatnonzero(steps < 0)
        resets += len(drops)
        # After a reset the counter starts again from 0: the new value is one scrape's traffic.
        assert (v[drops + 1] <= steps[steps >= 0].max()).all(), s.display_name()
    assert resets > 0
    assert values_of(full["byte_counters"]).max() > 2.0**52


def test_memory_gauges_are_whole_pages(full):
    values = values_of(full["memory_pages"])
    assert (values > 0).all() and (np.fmod(values, 4096) == 0).all()


def test_timestamp_classes_carry_their_units(full):
    events = np.concatenate([s.timestamps for s in full["events_ms"]])
    assert (events % NS_PER_MS == 0).all() and len(np.unique(np.diff(events))) > 1000
    assert all(np.array_equal(s.values, [float(f"{v:.3f}") for v in s.values]) for s in full["events_ms"][:5])
    seconds = np.concatenate([np.diff(s.timestamps) for s in full["regular_seconds"]])
    assert (seconds % (10 * NS_PER_SECOND) == 0).all()
    micro = np.concatenate([s.timestamps for s in full["regular_us"]])
    assert (micro % 1000 == 0).all() and (micro % NS_PER_MS != 0).mean() > 0.9
    assert ((micro % (10 * NS_PER_SECOND)) < NS_PER_SECOND // 10).mean() > 0.99  # just after the boundary
    for s in full["regular_ns"]:
        steps = np.diff(s.timestamps)
        assert (s.timestamps % 1000 != 0).mean() > 0.9 and steps.min() > 60 * NS_PER_SECOND
        assert len(np.unique(s.timestamps % (60 * NS_PER_SECOND))) > len(s) // 2  # drifting, on no grid


def test_daily_series_repeat_after_a_day(full):
    for s in full["daily_periodic"]:
        assert np.array_equal(s.values, np.rint(s.values))
        day = 1440  # scrapes of 60 s
        assert np.corrcoef(s.values[:-day], s.values[day:])[0, 1] > 0.5, s.display_name()


def test_nan_are_go_nan_or_prometheus_stale_markers_as_written(full):
    series_list = full["stale_and_nan"]
    patterns = bits(values_of(series_list))
    nan_patterns = set(patterns[np.isnan(values_of(series_list))].tolist())
    assert nan_patterns == {GO_NAN, STALE_NAN}
    for s in series_list:
        stale = np.flatnonzero(bits(s.values) == STALE_NAN)
        # A marker follows a real sample, and the next sample (if any) comes at least a scrape later.
        assert stale.size and (stale > 0).all() and not np.isin(stale - 1, stale).any(), s.display_name()
        following = stale[stale + 1 < len(s)]
        assert (s.timestamps[following + 1] - s.timestamps[following] >= 10 * NS_PER_SECOND).all()
    quantiles = [s for s in series_list if s.name == "http_request_duration_seconds"]
    assert np.mean([np.isnan(s.values).mean() for s in quantiles]) > 0.5


def test_constant_series_never_change(full):
    for s in full["constants"]:
        assert len(set(bits(s.values).tolist())) == 1, s.display_name()


def test_cloudwatch_average_is_sum_over_sample_count_on_5_minute_periods(full):
    by_metric = {}
    for s in full["cloudwatch_5min"]:
        statistic = next(x for x in ("sample_count", "average", "sum", "maximum") if s.name.endswith("_" + x))
        key = (s.name.removesuffix("_" + statistic), tuple(sorted(s.labels.items())))
        by_metric.setdefault(key, {})[statistic] = s
    assert len(by_metric) == 10
    for stats in by_metric.values():
        count, total = stats["sample_count"].values, stats["sum"].values
        assert (count >= 1).all() and np.array_equal(count, np.rint(count))
        assert np.array_equal(bits(stats["average"].values), bits(total / count))
        assert (stats["maximum"].values <= total).all()
        assert (stats["sum"].timestamps % (300 * NS_PER_SECOND) == 0).all()


def test_exchange_rates_have_six_decimals_on_business_days(full):
    series_list = full["exchange_rates"]
    for s in series_list[:10]:
        assert np.array_equal(s.values, [float(f"{v:.6f}") for v in s.values.tolist()])
    days = series_list[0].timestamps // (86_400 * NS_PER_SECOND)
    assert ((days + 3) % 7 < 5).all()  # 1970-01-01 was a Thursday: no Saturday or Sunday
    assert (series_list[0].timestamps % (86_400 * NS_PER_SECOND) == 15 * 3600 * NS_PER_SECOND).all()
    aed = next(s for s in series_list if s.labels["quote"] == "AED")
    assert np.abs(aed.values - 3.6725).max() < 0.01


# compare_peers.py --corpus

def test_compare_peers_corpus_runs_every_class_verified_with_a_summary(tmp_path, capsys):
    target = tmp_path / "rows.json"
    cp.main(["--corpus", "--scale", "0.01", "--peers", "project", "--repeat", "1", "--json", str(target)])
    out = capsys.readouterr().out
    summary = out.split("corpus summary", 1)[1]
    available = {c.name for c in corpus.CLASSES if c.available()}
    assert set(GENERATED) <= available
    for name in available:
        assert f"\n{name} " in summary, name
    rows = json.loads(target.read_text())
    assert {r["class"] for r in rows} == available
    assert all(r["verified"] for r in rows)
    assert {r["points"] for r in rows if r["class"] == "high_cardinality"} == {100 * 120}


@pytest.mark.parametrize("argv", [["--scale", "0.5"], ["--corpus", "nope"], ["--corpus", "--scale", "0"],
                                  ["--corpus", "--real"], ["--corpus", "--points", "100"]])
def test_corpus_options_that_do_not_fit_are_usage_errors(argv):
    with pytest.raises(SystemExit) as info:
        cp.parse_args(argv)
    assert info.value.code == 2


def test_runs_are_interleaved_and_ratios_are_medians_of_per_run_ratios():
    calls = []

    def recording(name, base):
        def encode(series_list, workdir):
            calls.append(name)
            return base.encode(series_list, workdir)
        return cp.Peer(name, "test", encode, base.decode)

    base = cp.available_peers(("stdlib",))[0][0]
    cp.compare(corpus.build("constants", scale=0.001), [recording("a", base), recording("b", base)], repeat=3)
    assert calls == ["a", "b", "a", "b", "a", "b"]
    reference = cp.Row(cp.REFERENCE_PEER, "zstd", 10, verified=True, encode_times=[1.0, 1.0, 1.0],
                       decode_times=[1.0, 2.0, 3.0], encode_seconds=1.0, decode_seconds=2.0)
    row = cp.Row("m", "project", 10, verified=True, encode_times=[2.0, 4.0, 1.0],
                 decode_times=[1.0, 1.0, 10.0], encode_seconds=2.0, decode_seconds=1.0)
    cp.add_speed_ratios([reference, row])
    assert row.encode_ratio == 0.5  # per-run ratios 0.5, 0.25, 1.0
    assert row.decode_ratio == 1.0  # per-run ratios 1, 2, 0.3 (the ratio of the medians would be 2)


# Real data from packages

REAL = corpus.get("real_pvlib_weather")


def test_tmy3_hours_end_at_24_and_move_to_utc():
    assert tmy3_utc("01/01/1988", "24:00", -5.0) == "2001-01-02T05:00:00Z"
    assert tmy3_utc("12/31/1997", "01:00", -9.0) == "2001-12-31T10:00:00Z"


@pytest.mark.skipif(not REAL.available(), reason="pvlib is not installed (benchmarks/requirements-peers.txt)")
def test_real_pvlib_weather_is_hourly_measurements_with_gaps_for_missing_values():
    series_list = corpus.build(REAL.name)
    assert len(series_list) == REAL.series and 200_000 <= sum(len(s) for s in series_list) <= REAL.series * 8760
    for s in series_list:
        steps = np.diff(s.timestamps)
        assert (steps > 0).all() and (steps % (3600 * NS_PER_SECOND) == 0).all(), s.display_name()
        assert not np.isin(s.values, [-9900.0]).any()
    assert first_difference(series_list, corpus.build(REAL.name)) is None
    small = corpus.build(REAL.name, scale=0.01)
    assert [len(s) for s in small] == [round(len(s) * 0.01) for s in series_list]


def test_a_class_whose_package_is_missing_is_skipped_with_a_note(monkeypatch, capsys):
    monkeypatch.setattr(corpus.CorpusClass, "available", lambda self: self.package is None)
    cp.main(["--corpus", REAL.name, "constants", "--scale", "0.001", "--peers", "project", "--repeat", "1"])
    out = capsys.readouterr().out
    assert f"skipped: class {REAL.name}: needs the pvlib package: pip install -r" in out
    assert "\nconstants " in out.split("corpus summary", 1)[1]
