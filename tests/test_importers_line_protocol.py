"""InfluxDB line protocol (lib/data/importers/line_protocol.py)."""
import pytest

from lib.data.importers import import_paths
from tests.importer_inputs import T0_NS, by_name, import_error, write


def test_influx_fields_become_series_with_tags_as_labels(tmp_path):
    content = (
        "# exported by influxd inspect export-lp\n"
        "\n"
        "cpu,host=a,region=eu usage_user=1.5,usage_system=0.25 1700000000000000000\n"
        "cpu,region=eu,host=a usage_user=2.5 1700000000123456789\r\n"
        "mem,host=a used=12i,free=7u,swapping=true,oom=F 1700000000000000000\n"
    )
    series = by_name(import_paths([write(tmp_path, "metrics.lp", content)]))
    values = {name: s.values.tolist() for name, s in series.items()}
    assert values == {
        'cpu_usage_system{host="a",region="eu"}': [0.25],
        'cpu_usage_user{host="a",region="eu"}': [1.5, 2.5],
        'mem_free{host="a"}': [7.0],
        'mem_oom{host="a"}': [0.0],  # booleans are 0/1
        'mem_swapping{host="a"}': [1.0],
        'mem_used{host="a"}': [12.0],
    }
    assert list(values) == sorted(values)  # series in canonical order: here, by name
    user = series['cpu_usage_user{host="a",region="eu"}']
    assert user.timestamps.tolist() == [T0_NS, 1_700_000_000_123_456_789]


def test_influx_escapes_and_quoted_string_fields(tmp_path):
    content = (
        r'my\ disk\,io,path=C:\\data,mount\ point=/mnt\,x,k\=ey=v\=1 '
        r'note="a, b=c \"quoted\" d",read\ bytes=-3i,util=0.1 1700000000000000000' "\n"
    )
    result = import_paths([write(tmp_path, "x.lp", content)])
    series = by_name(result)
    labels = {"path": "C:\\data", "mount point": "/mnt,x", "k=ey": "v=1"}
    assert {s.name for s in result.series} == {"my disk,io_read bytes", "my disk,io_util"}
    assert all(s.labels == labels for s in series.values())
    assert [s.values.tolist() for s in result.series] == [[-3.0], [0.1]]
    assert result.warnings == [f"{tmp_path / 'x.lp'}: skipped 1 string field values (only numbers are series)"]


def test_a_field_named_value_is_the_measurement_itself(tmp_path):
    # InfluxDB's layout for Prometheus remote-write data: the sample is the field `value`.
    content = "http_requests,host=a value=1027,value_max=3 1700000000000000000\nup value=1i 5\n"
    series = by_name(import_paths([write(tmp_path, "x.lp", content)]))
    values = {name: s.values.tolist() for name, s in series.items()}
    assert values == {
        'http_requests{host="a"}': [1027.0], 'http_requests_value_max{host="a"}': [3.0], "up{}": [1.0],
    }


def test_only_a_space_separates_the_parts_of_a_line(tmp_path):
    # A tab or a non-breaking space is part of the name it is in (str.split() would cut there).
    content = "cpu\tx,host=a\u00a0b usage=1 5\n\t cpu,host=c\u2003 v=2 6 \r\n"
    result = import_paths([write(tmp_path, "x.lp", content)])
    assert sorted(s.display_name() for s in result.series) == [
        'cpu\tx_usage{host="a\u00a0b"}', 'cpu_v{host="c\u2003"}',
    ]


def test_influx_measurement_without_tags_and_negative_timestamp(tmp_path):
    [series] = import_paths([write(tmp_path, "x.lp", "uptime seconds=5 -1000000000\n")]).series
    assert (series.name, series.labels) == ("uptime_seconds", {})
    assert series.timestamps.tolist() == [-(10**9)]


@pytest.mark.parametrize(
    "line, message",
    [
        ("cpu usage=1.5", "missing timestamp"),
        ("cpu", "no fields"),
        ("cpu 1700000000000000000", "malformed field"),
        ("cpu usage= 1700000000000000000", "malformed field"),
        ("cpu,host usage=1 1700000000000000000", "malformed tag"),
        ("cpu,host=a,host=b usage=1 1700000000000000000", "given twice"),
        ("cpu usage=abc 1700000000000000000", "unparseable field value"),
        ("cpu usage=1.5x 1700000000000000000", "unparseable field value"),
        ("cpu usage=-3u 1700000000000000000", "unparseable field value"),
        ('cpu note="open 1700000000000000000', "unterminated string"),
        ("cpu usage=1 2023-10-12T14:30:00Z", "unparseable timestamp"),
        ("cpu usage=1 1700000000.5", "unparseable timestamp"),
        ("cpu usage=1 99999999999999999999", "64 bits"),
        ("cpu v=9223372036854775808i 1700000000000000000", "64 bits"),
        ("cpu v=-9223372036854775809i 1700000000000000000", "64 bits"),
        ("cpu v=99999999999999999999u 1700000000000000000", "64 bits"),
        ("cpu v=18446744073709551616u 1700000000000000000", "64 bits"),
        ("cpu usage=1 1700000000000000000 extra", "after the timestamp"),
        ("cpu usage=1\t1700000000000000000", "missing timestamp"),  # a tab is no separator
        ("cpu,host=a\u00a0b=c 1700000000000000000", "malformed field '1700000000000000000'"),  # nor U+00A0
    ],
)
def test_influx_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path, "bad.lp", "# header\ncpu usage=1 1700000000000000000\n" + line + "\n")
    error = import_error([path], message)
    assert error.startswith(f"{path}:3: ")
    assert "\n" not in error
