"""Prometheus HTTP API JSON: the body of `/api/v1/query_range`.

The response is a "matrix"; an instant "vector" works too. `__name__` is the metric name; a result
without one is named "unnamed". Timestamps are the API's unix seconds, as JSON numbers with a
fraction. A failed query ("status": "error") is reported with Prometheus' own message. After
parsing there are no lines any more, so errors name the JSON path (`data.result[3].values[17]`)
instead of a line number.

Memory: JSON is parsed in one piece, but each result's samples become columns as soon as the
parser has read them, so memory holds the text, the columns and one series as Python objects
(query_range returns at most 11,000 points per series).
"""
import json
from array import array
from decimal import Decimal

from lib.data.importers.fields import BadField, parse_value
from lib.data.importers.files import read_text
from lib.data.importers.points import UNNAMED_METRIC
from lib.data.importers.timestamps import INT64_MAX, INT64_MIN, seconds_to_ns
from lib.errors import FormatError


class _SampleColumns:
    """A result's [time, "value"] pairs, converted to compact columns.

    `where` is the JSON path of the list; each pair is named by its index in it, unless the list
    is the one made of an instant vector's single "value" (`numbered=False`).
    """

    def __init__(self, where, samples, numbered=True):
        self.timestamps, self.values = array("q"), array("d")
        for number, sample in enumerate(samples):
            at = f"{where}[{number}]" if numbered else where
            if not isinstance(sample, list) or len(sample) != 2:
                raise BadField(f"{at}: expected [time, \"value\"]")
            self.timestamps.append(_prometheus_time(at, sample[0]))
            self.values.append(_prometheus_value(at, sample[1]))


def read_prometheus_json(path, collector, warnings):
    text = read_text(path)
    results_converted = 0

    def convert_samples(pairs):
        # Called for each JSON object as soon as it is parsed. A sample as Python objects (a list, a
        # Decimal, a str) costs about 250 bytes against 16 in columns, so each result's "values"
        # becomes columns at once: memory holds one series as objects, not the whole file (13x
        # its size). Results end in document order, so the n-th converted is data.result[n].
        nonlocal results_converted
        item = dict(pairs)
        if isinstance(item.get("values"), list) and "metric" in item:
            item["values"] = _SampleColumns(f"data.result[{results_converted}].values", item["values"])
            results_converted += 1
        return item

    try:
        # Decimal keeps "1700000000.123" exact; a float would already be off by up to 100 ns.
        document = json.loads(text, parse_float=Decimal, object_pairs_hook=convert_samples)
    except BadField as exc:
        raise FormatError(f"{path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python will convert
        raise FormatError(f"{path}: not usable JSON ({exc})") from None
    try:
        histograms = _read_prometheus_document(document, collector)
    except BadField as exc:
        raise FormatError(f"{path}: {exc}") from None
    if histograms:
        warnings.append(f"{path}: skipped {histograms} native histogram series (only float samples are read)")


def _read_prometheus_document(document, collector):
    if not isinstance(document, dict):
        raise BadField("expected a JSON object from the Prometheus HTTP API")
    status = document.get("status")
    if status == "error":
        reason = " ".join(f"{document.get('errorType', 'error')}: {document.get('error', '')}".split())
        raise BadField(f"the query failed: {reason}")
    data = document.get("data")
    if status != "success" or not isinstance(data, dict):
        raise BadField("not a Prometheus API response (expected \"status\": \"success\" and \"data\")")
    result_type = data.get("resultType")
    if result_type not in ("matrix", "vector"):
        raise BadField(f"data.resultType is {result_type!r}; only 'matrix' and 'vector' hold series")
    results = data.get("result")
    if not isinstance(results, list):
        raise BadField("data.result is not a list")
    histograms = 0
    for index, item in enumerate(results):
        where = f"data.result[{index}]"
        if not isinstance(item, dict):
            raise BadField(f"{where}: expected an object")
        name, labels = _prometheus_identity(where, item.get("metric", {}))
        if result_type == "matrix":
            samples, where = item.get("values", []), where + ".values"
        else:
            samples, where = ([item["value"]] if "value" in item else []), where + ".value"
        histograms += int("histograms" in item or "histogram" in item)
        timestamps, values = collector.columns(name, labels)
        if not isinstance(samples, _SampleColumns):  # not converted while parsing: a vector, or no "metric"
            if not isinstance(samples, list):
                raise BadField(f"{where}: expected a list of [time, \"value\"] pairs")
            samples = _SampleColumns(where, samples, numbered=result_type == "matrix")
        timestamps.extend(samples.timestamps)
        values.extend(samples.values)
    return histograms


def _prometheus_identity(where, metric):
    if not isinstance(metric, dict) or not all(isinstance(v, str) for v in metric.values()):
        raise BadField(f"{where}.metric: expected an object of string labels")
    labels = dict(metric)
    name = labels.pop("__name__", "") or UNNAMED_METRIC
    return name, labels


def _prometheus_time(at, time):
    """The API's unix seconds (an integer or an exact Decimal) as integer nanoseconds."""
    if isinstance(time, bool) or not isinstance(time, (int, Decimal)):
        raise BadField(f"{at}: timestamp {time!r} is not a number of seconds")
    if isinstance(time, Decimal) and time.adjusted() > 30:
        raise BadField(f"{at}: timestamp {time} is outside the years 1677-2262")
    nanoseconds = seconds_to_ns(time)
    if not INT64_MIN <= nanoseconds <= INT64_MAX:
        raise BadField(f"{at}: timestamp {time} is outside the years 1677-2262")
    return nanoseconds


def _prometheus_value(at, value):
    if not isinstance(value, str):
        raise BadField(f"{at}: value {value!r} is not a string (the API quotes sample values)")
    try:
        return parse_value(value)
    except BadField as exc:
        raise BadField(f"{at}: {exc}") from None
