"""Corpus classes of exported decimals like the held-out real sets: CloudWatch statistics and
daily exchange rates.

Each builder takes (series count, points per series, rng_of) and returns the series; its docstring
names the exporter whose numbers it imitates, the signal first and then the representation.
"""
import numpy as np

from benchmarks.corpus_kit import (
    START_NS, ar1, daily_cycle, grid_times, instance_id, printed_decimals,
)
from lib.data.dataset import NS_PER_SECOND, Series

PERIOD_NS = 300 * NS_PER_SECOND
DAY_NS = 86_400 * NS_PER_SECOND
STATISTICS = ("average", "sum", "maximum", "sample_count")
# namespace, metric, what one raw data point is
CLOUDWATCH_METRICS = (
    ("ec2", "cpuutilization", "percent of the minute's CPU ticks"),
    ("ec2", "network_in", "bytes in the minute"),
    ("elb", "request_count", "requests in the minute, per load-balancer node"),
    ("elb", "latency", "seconds, one per request"),
    ("rds", "database_connections", "connections at the minute"),
)


def cloudwatch_5min(series_count, points, rng_of):
    """CloudWatch GetMetricStatistics exports (Period 300, as cloudwatch_exporter and CSV dumps
    write them) of EC2 CPUUtilization and NetworkIn, ELB RequestCount and Latency, RDS
    DatabaseConnections: per metric the Average, Sum, Maximum and SampleCount statistics.

    Signal: one-minute raw data points (detailed monitoring; one per request for Latency) with
    daily cycles, noise and bursts; an instance stopped for a while leaves no data points.
    Representation: the statistics as CloudWatch computes them in float64 and returns them in
    JSON: Sum and Maximum of the raw points, SampleCount a small integer (the number of requests
    for Latency), Average = Sum / SampleCount at full precision; timestamps on the 5-minute grid
    in whole seconds.
    """
    result = []
    for resource in range(-(-series_count // len(STATISTICS))):
        rng = rng_of(resource)
        namespace, metric, _raw = CLOUDWATCH_METRICS[resource % len(CLOUDWATCH_METRICS)]
        timestamps = grid_times(rng, PERIOD_NS, points, gap_probability=0.002)
        statistics = period_statistics(rng, timestamps, metric)
        labels = {"instance_id" if namespace != "elb" else "load_balancer_name":
                  instance_id(rng) if namespace != "elb" else f"shop-{resource}", "region": "us-east-1"}
        for statistic in STATISTICS:
            name = f"aws_{namespace}_{metric}_{statistic}"
            result.append(Series(name, labels, timestamps, statistics[statistic]))
    return result[:series_count]


def period_statistics(rng, timestamps, metric):
    """Average, Sum, Maximum and SampleCount of each 5-minute period's raw data points."""
    n = len(timestamps)
    load = np.clip((1 + 0.6 * daily_cycle(timestamps)) * np.exp(ar1(rng, n, 0.25, 0.97)), 0.05, None)
    if metric == "latency":
        return latency_statistics(rng, load)
    samples = 5 * (int(rng.integers(2, 6)) if metric == "request_count" else 1)
    counts = samples - (rng.random(n) < 0.01)  # now and then a data point arrives late
    raw = raw_points(rng, metric, np.repeat(load, samples).reshape(n, samples))
    raw[np.arange(samples) >= counts[:, None]] = np.nan
    total = np.zeros(n)
    for column in raw.T:  # in arrival order, as a running sum
        total = np.where(np.isnan(column), total, total + column)
    return {"average": total / counts, "sum": total, "maximum": np.nanmax(raw, axis=1),
            "sample_count": counts.astype(np.float64)}


def raw_points(rng, metric, load):
    if metric == "cpuutilization":
        ticks = 6000 + rng.integers(-2, 3, load.shape)  # centisecond ticks in the minute
        return 100 * np.rint(np.clip(load * rng.uniform(5, 30), 0, 100) / 100 * ticks) / ticks
    if metric == "network_in":
        return np.floor(load * rng.uniform(1e6, 1e9) * rng.lognormal(0, 0.3, load.shape))
    if metric == "request_count":
        return rng.poisson(load * rng.uniform(50, 2000)).astype(np.float64)
    return np.rint(rng.uniform(5, 200) * np.sqrt(load) + rng.normal(0, 2, load.shape)).clip(0)


def latency_statistics(rng, load):
    """ELB nodes publish a statistic set (count, sum, maximum of their requests' latencies, in
    seconds with µs resolution) every minute; CloudWatch adds the five sets of each period in
    float64. A minute's sum and maximum are drawn from the distribution of a lognormal's."""
    per_minute = rng.poisson(np.repeat(load, 5).reshape(-1, 5) * rng.uniform(60, 1000)) + 1
    mu, sigma = np.log(rng.uniform(0.02, 0.2)), 0.7
    mean, var = np.exp(mu + sigma**2 / 2), (np.exp(sigma**2) - 1) * np.exp(2 * mu + sigma**2)
    spread = np.sqrt(per_minute * var) * rng.normal(size=per_minute.shape)
    minute_sums = np.rint(1e6 * np.maximum(per_minute * mean + spread, per_minute * 1e-4)) / 1e6
    total = np.zeros(len(load))
    for column in minute_sums.T:
        total = total + column
    largest = np.exp(mu + sigma * np.sqrt(2 * np.log(per_minute.max(axis=1) * 5.0))
                     + sigma * rng.gumbel(0, 0.3, len(load)))
    counts = per_minute.sum(axis=1)
    return {"average": total / counts, "sum": total, "maximum": printed_decimals(largest, 6),
            "sample_count": counts.astype(np.float64)}


# ISO 4217 codes; the pegs: currency -> (anchor, rate to the anchor)
CURRENCIES = (
    "EUR JPY GBP CHF CAD AUD NZD SEK NOK DKK PLN CZK HUF RON BGN TRY RUB UAH ILS ZAR EGP NGN KES GHS MAD "
    "INR PKR BDT LKR NPR CNY HKD TWD KRW SGD MYR THB IDR PHP VND MXN BRL ARS CLP COP PEN UYU BOB PYG CRC "
    "AED SAR QAR KWD BHD OMR JOD XOF XAF KZT UZS GEL AMD AZN MNT ISK BAM MKD RSD ALL MDL BYN TND DZD LBP "
    "IRR IQD JMD TTD DOP"
).split()
PEGS = {
    "DKK": ("EUR", 7.46038), "BGN": ("EUR", 1.95583), "XOF": ("EUR", 655.957), "XAF": ("EUR", 655.957),
    "BAM": ("EUR", 1.95583), "HKD": ("USD", 7.8), "AED": ("USD", 3.6725), "SAR": ("USD", 3.75),
    "QAR": ("USD", 3.64), "BHD": ("USD", 0.376), "OMR": ("USD", 0.3845), "JOD": ("USD", 0.709),
}


def exchange_rates(series_count, points, rng_of):
    """Daily reference exchange rates against USD with 6 decimals (a central bank's or an FX data
    provider's daily file or JSON), one per business day at 15:00 UTC, no weekends, a few holidays.

    Signal: free-floating currencies walk geometrically (0.2 to 1.5 % a day, heavy tails, now
    and then a devaluation) from levels between 0.3 and 40,000 per USD; pegged ones hold their peg
    (AED 3.6725) with market noise, EUR-pegged ones follow EUR. Representation: 6 decimals,
    printed and parsed back (149.834512).
    """
    days = business_days(rng_of(len(CURRENCIES) * 1000), points)
    euro = floating_rate(rng_of(0), points, 0.92)
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        code = CURRENCIES[index % len(CURRENCIES)] + ("" if index < len(CURRENCIES) else str(index))
        if code in PEGS:
            anchor, peg = PEGS[code]
            rate = peg * (euro if anchor == "EUR" else 1.0) * (1 + ar1(rng, points, 0.0002, 0.9))
        else:
            level = np.exp(rng.uniform(np.log(0.3), np.log(4e4)))
            rate = euro if index == 0 else floating_rate(rng, points, level)
        labels = {"base": "USD", "quote": code}
        result.append(Series("exchange_rate", labels, days, printed_decimals(rate, 6)))
    return result


def business_days(rng, count):
    """`count` business days at 15:00 UTC from 2016-01-04 (a Monday), skipping about 1 % as holidays."""
    first_monday = START_NS - 2_919 * DAY_NS  # 2016-01-04
    days = np.arange(int(count * 1.5) + 30)
    open_days = days[(days % 7 < 5) & (rng.random(len(days)) >= 0.01)][:count]
    return first_monday + open_days * DAY_NS + 15 * 3600 * NS_PER_SECOND


def floating_rate(rng, count, level):
    volatility = rng.uniform(0.002, 0.015)
    returns = volatility * rng.standard_t(4, count) / np.sqrt(2)
    devaluations = rng.random(count) < 0.0004
    returns[devaluations] += rng.uniform(0.1, 0.4, int(devaluations.sum()))
    return level * np.exp(np.cumsum(returns))

