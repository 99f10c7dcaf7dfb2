"""benchmarks/tsdb_readers.py on hand-written answers of promtool dump, VictoriaMetrics' export and
InfluxDB's chunked InfluxQL JSON, as those programs write them."""
import numpy as np
import pytest

from benchmarks.tsdb_readers import (
    parse_dump_line, parse_vm_line, read_influxql_chunks, read_promtool_dump, read_vm_export, unquote_go,
)
from lib.data.dataset import float_bits
from lib.errors import FormatError

MS = 1_000_000
SERIES_WITH_ROWS = '{{"results":[{{"series":[{{"name":"m","columns":["time","value"],"values":{}}}]}}]}}'


def by_key(series_list):
    return {(s.name, tuple(sorted(s.labels.items()))): s for s in series_list}


def test_promtool_dump_lines():
    dump = [
        '{__name__="up", job="a \\"b\\" \\\\c\\nd", zone="Z\\u00fcrich \\x01"} 1 1704067200123\n',
        '{__name__="up", job="a \\"b\\" \\\\c\\nd", zone="Z\\u00fcrich \\x01"} -0 1704067215123\n',
        '{A="upper first", __name__="m"} NaN 5\n',
        '{A="upper first", __name__="m"} +Inf 6\n',
        '{A="upper first", __name__="m"} 1.234567e+06 7\n',
        "\n",
    ]
    series = by_key(read_promtool_dump(dump))
    up = series[("up", (("job", 'a "b" \\c\nd'), ("zone", "Zürich \x01")))]
    assert up.timestamps.tolist() == [1704067200123 * MS, 1704067215123 * MS]
    assert float_bits(up.values).tolist() == [0x3FF0000000000000, 0x8000000000000000]
    m = series[("m", (("A", "upper first"),))]
    assert np.isnan(m.values[0]) and m.values[1] == np.inf and m.values[2] == 1234567.0
    assert m.timestamps.tolist() == [5 * MS, 6 * MS, 7 * MS]


@pytest.mark.parametrize("line, problem", [
    ('{__name__="m"} 1\n', "not 'labels value timestamp'"),
    ('__name__="m" 1 2\n', "not 'labels value timestamp'"),
    ('{__name__="m" job="x"} 1 2\n', "cannot read the label set"),
    ('{__name__="m", job="\\q"} 1 2\n', "unknown escape"),
    ('{__name__="m", __name__="n"} 1 2\n', "twice"),
    ('{__name__="m"} one 2\n', "not a number"),
    ('{__name__="m"} 1 2.5\n', "not an integer timestamp"),
    ('{__name__="m", job="\\xff"} 1 2\n', "not UTF-8"),
])
def test_promtool_dump_refuses_what_it_does_not_write(line, problem):
    with pytest.raises(FormatError, match=problem):
        parse_dump_line(line)


def test_a_dump_series_without_a_name_is_refused():
    with pytest.raises(FormatError, match="without __name__"):
        read_promtool_dump(['{job="x"} 1 2\n'])


def test_go_unquote():
    assert unquote_go("plain") == "plain"
    assert unquote_go("\\t\\u2713\\U0001F600\\101") == "\t✓😀A"
    assert unquote_go("\\xc3\\xbc") == "ü"  # bytes joined before decoding


def test_victoriametrics_export_lines():
    lines = [
        '{"metric":{"__name__":"cpu","host":"a"},"values":[1,0.5,+Inf],"timestamps":[1000,2000,3000]}\n',
        '{"metric":{"__name__":"cpu","host":"a"},"values":[-Inf,NaN],"timestamps":[4000,5000]}\n',
        # A label value holding the text that ends the metric object, escaped as JSON escapes it.
        '{"metric":{"__name__":"odd","x":"\\",\\"values\\":[1],\\"timestamps\\":[2]}"},'
        '"values":[],"timestamps":[]}\n',
    ]
    series = by_key(read_vm_export(lines))
    cpu = series[("cpu", (("host", "a"),))]
    assert cpu.timestamps.tolist() == [1000 * MS, 2000 * MS, 3000 * MS, 4000 * MS, 5000 * MS]
    assert cpu.values[:4].tolist() == [1.0, 0.5, np.inf, -np.inf] and np.isnan(cpu.values[4])
    odd = series[("odd", (("x", '","values":[1],"timestamps":[2]}'),))]
    assert len(odd) == 0


@pytest.mark.parametrize("line, problem", [
    ('{"metric":{"__name__":"m"},"values":[1,2],"timestamps":[1]}', "2 values but 1 timestamps"),
    ('{"metric":{"__name__":"m"},"timestamps":[1],"values":[1]}', "not a VictoriaMetrics export line"),
    ('{"metric":{"__name__":"m","n":3},"values":[1],"timestamps":[1]}', "string labels"),
    ('{"metric":{"__name__":"m"},"values":[x],"timestamps":[1]}', "not a number"),
    ('{"metric":{"__name__":"m"},"values":[1],"timestamps":[1.5]}', "not an integer timestamp"),
    ('{"metric":{"__name__":"m",},"values":[1],"timestamps":[1]}', "cannot read the metric object"),
])
def test_victoriametrics_export_refuses_what_it_does_not_write(line, problem):
    with pytest.raises(FormatError, match=problem):
        parse_vm_line(line)


def test_influxql_chunks_join_a_series_and_drop_empty_tags():
    answer = [
        '{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a","region":""},'
        '"columns":["time","value"],"values":[[1704067200000000001,0.1],[1704067215000000000,-0]]}],'
        '"partial":true}]}\n',
        '{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a","region":""},'
        '"columns":["time","value"],"values":[[1704067230000000000,10000000000000000]]}]}]}\n',
        '{"results":[{"statement_id":0,"series":[{"name":"up","columns":["time","value"],'
        '"values":[[-5,1]]}]}]}\n',
    ]
    series = by_key(read_influxql_chunks(answer))
    cpu = series[("cpu", (("host", "a"),))]
    assert cpu.timestamps.tolist() == [1704067200000000001, 1704067215000000000, 1704067230000000000]
    assert float_bits(cpu.values).tolist() == [0x3FB999999999999A, 0x8000000000000000, 0x4341C37937E08000]
    assert series[("up", ())].timestamps.tolist() == [-5]


@pytest.mark.parametrize("line, problem", [
    ('{"error":"database not found: x"}', "database not found"),
    ('{"results":[{"statement_id":0,"error":"bad query"}]}', "bad query"),
    ('{"results":[{"series":[{"name":"m","columns":["time","other"],"values":[]}]}]}', "columns"),
    (SERIES_WITH_ROWS.format("[[1,null]]"), "not \\[nanoseconds"),
    (SERIES_WITH_ROWS.format("[[1.5,2]]"), "not \\[nanoseconds"),
    ("not json", "not JSON"),
])
def test_influxql_answers_that_are_errors_or_not_points_are_refused(line, problem):
    with pytest.raises(FormatError, match=problem):
        read_influxql_chunks([line])
