"""Corpus classes of sensors and meters: float32 registers and columns, binary fractions, steps.

Each builder takes (series count, points per series, rng_of) and returns the series; its docstring
names the exporter whose numbers it imitates, the signal first and then the representation.
"""
import numpy as np

from benchmarks.corpus_kit import (
    START_NS, ar1, as_float32, daily_cycle, grid_times, printed_significant, scrape_times,
    seconds_since_start,
)
from lib.data import generator
from lib.data.dataset import NS_PER_SECOND, Series

HOUR_NS = 3600 * NS_PER_SECOND
MODBUS_QUANTITIES = ("voltage_volts", "current_amperes", "power_watts", "frequency_hertz", "power_factor")


def float32_modbus(series_count, points, rng_of):
    """Three-phase energy meters read over Modbus, whose registers are IEEE float32 (voltage,
    current, active power, frequency, power factor), collected every 10 s by Telegraf's modbus
    input (`data_type = "FLOAT32-IEEE"`) or a Modbus exporter, which widen them to float64.

    Signal: mains voltage 230 V, higher at night, wandering by about a volt; load current with a
    daily cycle, noise and motor starts; a power factor near 0.9; grid frequency wandering by
    20 mHz around 50 Hz. The meter computes power from voltage, current and power factor in
    float32. Representation: every value is exactly a float32.
    """
    result = []
    for meter in range(-(-series_count // len(MODBUS_QUANTITIES))):
        rng = rng_of(meter)
        timestamps = scrape_times(rng, 10, points)
        labels = {"meter": f"pm{meter + 1:02d}", "phase": f"L{meter % 3 + 1}", "site": "plant-a"}
        columns = meter_readings(rng, timestamps)
        for quantity in MODBUS_QUANTITIES:
            result.append(Series(f"modbus_{quantity}", labels, timestamps, columns[quantity]))
    return result[:series_count]


def meter_readings(rng, timestamps):
    n = len(timestamps)
    volts = 230 + 2.5 * daily_cycle(timestamps, peak_hour=3) + ar1(rng, n, 0.8, 0.99) + rng.normal(0, 0.15, n)
    base = rng.uniform(2, 40)
    motor_starts = (rng.random(n) < 0.002) * rng.uniform(2, 6, n) * base
    amps = np.maximum(base * (1 + 0.5 * daily_cycle(timestamps)) * np.exp(ar1(rng, n, 0.15, 0.98))
                      + motor_starts, 0.05)
    power_factor = np.clip(rng.uniform(0.85, 0.97) + ar1(rng, n, 0.02, 0.98), 0.6, 0.999)
    hertz = 50 + ar1(rng, n, 0.02, 0.995) + rng.normal(0, 0.003, n)
    v32, a32, pf32 = (np.asarray(x, dtype=np.float32) for x in (volts, amps, power_factor))
    watts = v32 * a32 * pf32  # float32 arithmetic, as in the meter
    return {"voltage_volts": as_float32(v32), "current_amperes": as_float32(a32),
            "power_watts": as_float32(watts), "frequency_hertz": as_float32(hertz),
            "power_factor": as_float32(pf32)}


# metric, step as (integer, decimal places), base level, daily amplitude, seasonal amplitude, noise, low, high
HOURLY_SENSORS = (
    ("air_temperature_celsius", (2, 2), 11.0, 5.0, 9.0, 1.5, -30.0, 45.0),
    ("relative_humidity_percent", (5, 2), 70.0, -15.0, 5.0, 6.0, 12.0, 100.0),
    ("barometric_pressure_hectopascals", (25, 3), 1013.0, 0.6, 3.0, 6.0, 960.0, 1050.0),
    ("water_level_meters", (3, 3), 1.2, 0.02, 0.3, 0.25, 0.2, 3.5),
    ("soil_moisture_ratio", (5, 4), 0.27, -0.004, 0.05, 0.04, 0.05, 0.5),
    ("wind_speed_meters_per_second", (2, 2), 3.5, 1.2, 0.5, 2.0, 0.0, 30.0),
    ("water_ph", (5, 3), 7.4, 0.15, 0.2, 0.25, 5.5, 9.5),
    ("dissolved_oxygen_milligrams_per_liter", (2, 2), 8.5, 1.0, 1.5, 0.8, 2.0, 14.0),
)
# Per series, the share of day files that went through text: with the values that land back on
# their float32, about a quarter of the class is not exactly float32, as in the held-out set.
DAILY_FILES_PRINTED_SHARE = (0.45, 0.85)


def float32_hourly_mixed(series_count, points, rng_of):
    """Hourly readings of environmental monitoring stations (temperature, humidity, pressure, water
    level, soil moisture, wind, pH, dissolved oxygen) kept in an archive of float32 columns (netCDF
    `float` variables, float32 DataFrames), as the held-out sensor set is.

    Signal: daily and seasonal cycles with wandering noise, on the logger's hourly grid with
    missing hours. Representation: the logger reports decimals on the sensor's step, which is not
    a power of ten (0.02 degC, 0.05 %, 0.025 hPa, 3 mm, 0.0005 m3/m3, 0.02 m/s, 0.005 pH,
    0.02 mg/l), so each series holds a few hundred to a few thousand distinct values; the archive
    stores them as float32. Some day files (45 to 85 % per series) were re-saved by a tool that printed every value with
    16 significant digits (5.827000141143799) and parsed it back as float64: most of those values
    lie one float64 ULP from the float32, a few land on it.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        metric, step, *shape = HOURLY_SENSORS[index % len(HOURLY_SENSORS)]
        timestamps = grid_times(rng, HOUR_NS, points, gap_probability=0.01)
        decimals = sensor_decimals(rng, timestamps, step, *shape)
        stored = reprinted_on_some_days(rng, timestamps, as_float32(decimals))
        labels = {"station": f"st-{index // len(HOURLY_SENSORS) + 101}", "network": "hydromet"}
        result.append(Series(metric, labels, timestamps, stored))
    return result


def reprinted_on_some_days(rng, timestamps, stored):
    """The float32 values of the days (DAILY_FILES_PRINTED_SHARE of them) whose files a tool
    re-saved with 16 significant digits, parsed back as float64; the other days' as they are."""
    day = (timestamps - START_NS) // (24 * HOUR_NS)
    printed_days = rng.random(int(day.max()) + 1) < rng.uniform(*DAILY_FILES_PRINTED_SHARE)
    return np.where(printed_days[day], printed_significant(stored, 16), stored)


def sensor_decimals(rng, timestamps, step, base, daily, seasonal, noise, low, high):
    """The logger's decimal text on the sensor's step, parsed as float64 (e.g. 1013.025)."""
    units, places = step
    days = seconds_since_start(timestamps) / 86400.0
    season = np.sin(2 * np.pi * (days + rng.uniform(0, 365)) / 365)
    wander = ar1(rng, len(timestamps), noise, 0.97)
    signal = base + daily * daily_cycle(timestamps) + seasonal * season + wander
    counts = np.rint(np.clip(signal, low, high) * 10**places / units).astype(np.int64) * units
    return np.array([float(decimal_text(k, places)) for k in counts.tolist()])


def decimal_text(scaled, places):
    """The decimal scaled / 10**places as text, built from integers (no float rounding)."""
    whole, fraction = divmod(abs(scaled), 10**places)
    return f"{'-' if scaled < 0 else ''}{whole}.{fraction:0{places}d}"


def binary_fractions(series_count, points, rng_of):
    """Readings whose exporter divides an integer by a power of two, scraped every 60 s.

    Half are DS18B20 temperatures read with the Arduino DallasTemperature library (raw x 0.0078125,
    12-bit resolution, so multiples of 1/16 degC): fridges and freezers cycling on their thermostat,
    server-room inlets, aquariums, outdoor air. Half are 10-bit ADC counts reported as a fraction of
    full scale (count / 1024): light sensors with a daily cycle and clouds, soil moisture drying
    between waterings. The values travel as shortest round-trip text (Go's strconv, Python's repr),
    so they arrive exact: every value x 1024 is an integer.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        timestamps = scrape_times(rng, 60, points)
        labels = {"device": f"esp-{index:02d}", "room": ("lab", "store", "office", "greenhouse")[index % 4]}
        if index % 2 == 0:
            raw = np.rint(thermometer_signal(rng, timestamps, index // 2) * 16) + rng.integers(-1, 2, points)
            result.append(Series("ds18b20_temperature_celsius", labels, timestamps, raw * 0.0625))
        else:
            noisy = adc_signal(rng, timestamps, index // 2) + rng.integers(-2, 3, points)
            counts = np.clip(np.rint(noisy), 0, 1023)
            result.append(Series("adc_fraction_of_full_scale", labels, timestamps, counts / 1024))
    return result


def thermometer_signal(rng, timestamps, kind):
    n = len(timestamps)
    minutes = seconds_since_start(timestamps) / 60.0
    if kind % 5 in (0, 1):  # fridge or freezer: a thermostat's sawtooth
        low = rng.uniform(2, 4) if kind % 5 == 0 else rng.uniform(-22, -19)
        period = rng.uniform(25, 60)
        phase = (minutes / period + rng.uniform(0, 1)) % 1.0
        return low + 4 * np.where(phase < 0.7, phase / 0.7, (1 - phase) / 0.3) + ar1(rng, n, 0.1)
    if kind % 5 == 2:  # server-room inlet
        return rng.uniform(19, 23) + 1.5 * daily_cycle(timestamps) + ar1(rng, n, 0.4, 0.99)
    if kind % 5 == 3:  # aquarium with a heater
        return 25 + 0.3 * np.sin(2 * np.pi * minutes / rng.uniform(40, 90)) + ar1(rng, n, 0.05)
    return rng.uniform(-5, 25) + 7 * daily_cycle(timestamps, peak_hour=15) + ar1(rng, n, 1.5, 0.995)


def adc_signal(rng, timestamps, kind):
    n = len(timestamps)
    if kind % 2 == 0:  # light: dark at night, clouds by day
        daylight = np.clip(daily_cycle(timestamps, peak_hour=12), 0, None)
        return 20 + 950 * daylight * np.clip(1 + ar1(rng, n, 0.3, 0.99), 0.1, 1.0)
    days = seconds_since_start(timestamps) / 86400.0  # soil moisture: drying, watered every few days
    period = rng.uniform(2, 5)
    return 300 + 500 * np.exp(-((days / period + rng.uniform(0, 1)) % 1.0) * 2.5) + ar1(rng, n, 5)


# metric, the raw count's full scale, the float32 factor the firmware multiplies it by
FLOAT32_SCALED = (
    ("tank_level_percent", 4095, np.float32(100 / 4095)),
    ("supply_pressure_bar", 4095, np.float32(16 / 4095)),
    ("flow_liters_per_minute", 65535, np.float32(0.05)),
    ("room_temperature_celsius", 65535, np.float32(0.1)),
)


def float32_scaled_counts(series_count, points, rng_of):
    """Industrial sensors whose firmware or gateway scales raw counts in float32 arithmetic (a 12-bit
    ADC times 100 / 4095 for a tank level, a Modbus register times a float32 scale factor of 0.05 or
    0.1), polled every 10 s and archived as float32, some days re-saved with 16 significant digits.

    Signal: tank levels filling and draining, pressure with pump cycles, flow with a daily demand
    curve, room temperature wandering, each with sensor noise in counts. Representation: count *
    factor in float32 (float32(count) * float32(factor), rounded once), widened to float64; on some
    days (45 to 85 % per series) printed with 16 digits and parsed back, a float64 step or two off.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        metric, full_scale, factor = FLOAT32_SCALED[index % len(FLOAT32_SCALED)]
        timestamps = scrape_times(rng, 10, points)
        level = 0.5 + 0.3 * daily_cycle(timestamps, peak_hour=rng.uniform(6, 20)) + ar1(rng, points, 0.02, 0.999)
        counts = np.clip(np.rint(level * min(full_scale, 4095) + rng.integers(-3, 4, points)), 0, full_scale)
        stored = reprinted_on_some_days(rng, timestamps, (counts.astype(np.float32) * factor).astype(np.float64))
        labels = {"plant": f"p{index // len(FLOAT32_SCALED) + 1}", "gateway": "modbus-gw"}
        result.append(Series(metric, labels, timestamps, stored))
    return result


# metric, how the exporter turns an integer k into the value
STEP_SERIES = (
    ("rain_gauge_millimeters_total", lambda k: k * 0.3),
    ("rain_gauge_millimeters_total", lambda k: k * 0.2794),
    ("energy_meter_kilowatt_hours_total", lambda k: k / 800),
    ("particulate_matter_2_5_micrograms_per_cubic_meter", lambda k: k / 3),
)


def float_step_products(series_count, points, rng_of):
    """Multiples of a step that is not a power of ten, computed in float64, scraped every 60 s.

    Rain gauges count bucket tips and multiply by the bucket (0.3 mm for cheap gauges, 0.2794 mm =
    0.011 in for Davis ones: 3 * 0.3 is 0.8999999999999999); S0 energy meters count pulses and
    divide by 800 impulses per kWh; particulate sensors (PMS5003) report integer ug/m3 and the
    exporter averages three readings (sum / 3). Signal: rain in wet spells, energy with a daily
    load cycle and device restarts (counters back to 0), particulates wandering with traffic peaks.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        timestamps = scrape_times(rng, 60, points)
        metric, to_value = STEP_SERIES[index % len(STEP_SERIES)]
        counts = step_counts(rng, timestamps, index % len(STEP_SERIES))
        model = ("wh-sp", "davis", "s0", "pms5003")[index % len(STEP_SERIES)]
        labels = {"station": f"ws-{index // len(STEP_SERIES) + 1:02d}", "model": model}
        result.append(Series(metric, labels, timestamps, to_value(counts)))
    return result


def step_counts(rng, timestamps, kind):
    n = len(timestamps)
    if kind in (0, 1):  # bucket tips: a Markov chain of dry and wet minutes
        wet = np.zeros(n, dtype=bool)
        switches = rng.random(n)
        for i in range(1, n):
            wet[i] = switches[i] >= 0.01 if wet[i - 1] else switches[i] < 0.002
        return generator.counter_with_restarts(rng, rng.poisson(np.where(wet, 0.6, 0.0)).astype(float), 0.0)
    if kind == 2:  # pulses: 800 per kWh, about 0.3 to 3 kW
        load_kw = rng.uniform(0.3, 3) * (1 + 0.6 * daily_cycle(timestamps, peak_hour=19))
        pulses = rng.poisson(np.maximum(load_kw, 0.05) * 800 / 60).astype(float)
        return generator.counter_with_restarts(rng, pulses, float(rng.integers(10**5, 10**7)))
    traffic = 1 + 0.4 * daily_cycle(timestamps, peak_hour=8)
    level = rng.uniform(5, 30) * np.exp(ar1(rng, n, 0.4, 0.995)) * traffic
    return sum(rng.poisson(level) for _ in range(3)).astype(float)


def daily_periodic(series_count, points, rng_of):
    """Series dominated by the day, scraped every 60 s for a week: solar inverters' AC power over
    SunSpec Modbus (integer W, 0 all night), a web analytics exporter's active users (integer,
    weekdays busier than weekends) and NDIR CO2 sensors in offices (integer ppm, 420 at night,
    rising while people are in). Representation: integers.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        timestamps = scrape_times(rng, 60, points)
        kind = index % 3
        if kind == 0:
            metric, values = "sunspec_ac_power_watts", solar_watts(rng, timestamps)
        elif kind == 1:
            weekday = (timestamps - START_NS) // (86400 * NS_PER_SECOND) % 7 < 5  # 2024-01-01 was a Monday
            busy = (1.1 + daily_cycle(timestamps, 15)) * np.where(weekday, 1.0, 0.55)
            users = rng.uniform(200, 5000) * busy
            metric, values = "analytics_active_users", rng.poisson(users).astype(float)
        else:
            occupied = np.clip(daily_cycle(timestamps, 13) * 1.6 - 0.4, 0, 1)
            n = len(timestamps)
            ppm = 420 + 600 * occupied * (1 + ar1(rng, n, 0.2, 0.99)) + rng.normal(0, 8, n)
            metric, values = "co2_ppm", np.rint(ppm)
        result.append(Series(metric, {"site": f"site-{index // 3 + 1}"}, timestamps, values))
    return result


def solar_watts(rng, timestamps):
    n = len(timestamps)
    sun = np.clip(daily_cycle(timestamps, peak_hour=12), 0, None) ** 1.5
    clouds = np.clip(1 - np.abs(ar1(rng, n, 0.35, 0.98)), 0.05, 1)
    return np.rint(rng.uniform(3000, 10000) * sun * clouds * (sun > 0.02))
