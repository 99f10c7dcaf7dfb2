"""Corpus classes of real data that registry packages ship, read from their data folders.

pvlib (solar energy modelling) ships typical-meteorological-year files of measured hourly
weather (TMY3: irradiance in W/m2, temperatures and wind in tenths, humidity and pressure in
integers, albedo and aerosol depth in hundredths and thousandths) and a year of hourly rain and
particulate readings. The files are rewritten as the long CSV that lib.data.importers reads (values
copied as text) and imported, so the numbers are parsed exactly as any CSV export would be. The
package is never imported; `pip install --no-deps pvlib` is enough. Without it the class is skipped.
"""
import csv
import datetime
import functools
import tempfile
from pathlib import Path

from benchmarks.peer_datasets import package_data_folder
from lib.data import importers
from lib.data.dataset import Series, canonical_order

TMY3_FILES = ("723170TYA.CSV", "703165TY.csv")  # Greensboro NC, Sand Point AK
# TMY3 column -> metric; the measured quantities (not the computed extraterrestrial ones, not flags)
TMY3_COLUMNS = {
    "GHI (W/m^2)": "global_horizontal_irradiance_watts_per_square_meter",
    "DNI (W/m^2)": "direct_normal_irradiance_watts_per_square_meter",
    "DHI (W/m^2)": "diffuse_horizontal_irradiance_watts_per_square_meter",
    "Dry-bulb (C)": "air_temperature_celsius",
    "Dew-point (C)": "dew_point_celsius",
    "RHum (%)": "relative_humidity_percent",
    "Pressure (mbar)": "station_pressure_millibars",
    "Wdir (degrees)": "wind_direction_degrees",
    "Wspd (m/s)": "wind_speed_meters_per_second",
    "Pwat (cm)": "precipitable_water_centimeters",
    "AOD (unitless)": "aerosol_optical_depth",
    "Alb (unitless)": "surface_albedo",
}
TMY3_MISSING = "-9900"  # the value of a missing measurement
TMY3_UNKNOWN_SOURCE = "?"  # the source flag of a value that is not there (AOD and albedo 0.000)
TMY3_YEAR = 2001  # a typical year is months of different years; like pvlib, put them in one year
SOILING_FILE = "soiling_hsu_example_inputs.csv"  # hourly rain (mm) and PM2.5, PM10 (g/m3), 2015


def pvlib_weather(scale=1.0):
    """Real hourly weather and air-quality measurements shipped by pvlib: two TMY3 station files
    (Greensboro NC, Sand Point AK; 12 measured quantities each) and a year of rain, PM2.5 and PM10.

    Signal and representation are the files': irradiance, humidity, pressure and wind direction as
    integers, temperatures, wind speed and precipitable water with one decimal, albedo and aerosol
    depth with two or three, particulates as small decimals (0.000387); a missing value (-9900, or
    a source flag '?') is a gap.
    Timestamps: local standard time (hour ending) moved to UTC, hourly. `scale` keeps the first
    fraction of each series.
    """
    return canonical_order([first_fraction(s, scale) for s in pvlib_series()])


@functools.lru_cache(maxsize=1)
def pvlib_series():
    """The files' series, imported once per process (each class build and each scale slices them)."""
    folder = package_data_folder("pvlib")
    with tempfile.TemporaryDirectory(prefix="corpus-pvlib-") as scratch:
        target = Path(scratch)
        for name in TMY3_FILES:
            write_tmy3_long_csv(folder / name, target / f"{Path(name).stem}.csv")
        write_soiling_long_csv(folder / SOILING_FILE, target / "soiling.csv")
        return tuple(importers.import_paths([target], "csv-long").series)


def first_fraction(s, scale):
    keep = max(2, round(len(s) * scale))
    return Series(s.name, s.labels, s.timestamps[:keep], s.values[:keep])


def write_tmy3_long_csv(source, target):
    """A TMY3 file (a station line, a header line, 8760 hourly rows) as `timestamp,metric,value,station`."""
    with open(source, newline="", encoding="latin-1") as f:
        station_line = next(csv.reader(f))
        rows = list(csv.DictReader(f))
    station, utc_offset_hours = station_line[1].strip().lower().replace(" ", "_"), float(station_line[3])
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "metric", "value", "station"])
        for row in rows:
            stamp = tmy3_utc(row["Date (MM/DD/YYYY)"], row["Time (HH:MM)"], utc_offset_hours)
            for column, metric in TMY3_COLUMNS.items():
                if tmy3_present(row, column):
                    writer.writerow([stamp, metric, row[column].strip(), station])


def tmy3_present(row, column):
    """A measurement is there unless it reads -9900 or its source flag (the `<name> source`
    column after it) is '?'."""
    source = row[column.split(" (")[0] + " source"].strip()
    return row[column].strip() != TMY3_MISSING and source != TMY3_UNKNOWN_SOURCE


def tmy3_utc(date_text, time_text, utc_offset_hours):
    """ISO 8601 UTC time of a TMY3 row: its date moved to TMY3_YEAR, hour 1..24 (24:00 is the next
    day's midnight), local standard time minus the station's UTC offset."""
    month, day, _year = (int(part) for part in date_text.split("/"))
    hour = int(time_text.split(":")[0])
    local = datetime.datetime(TMY3_YEAR, month, day) + datetime.timedelta(hours=hour)
    return (local - datetime.timedelta(hours=utc_offset_hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_soiling_long_csv(source, target):
    with open(source, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "metric", "value", "site"])
        for row in rows:
            stamp = row["TimeStamp"].replace(" ", "T") + "Z"
            for column, metric in (("rain", "rain_millimeters"), ("PM2_5", "pm2_5_grams_per_cubic_meter"),
                                   ("PM10", "pm10_grams_per_cubic_meter")):
                writer.writerow([stamp, metric, row[column].strip(), "soiling_example"])
