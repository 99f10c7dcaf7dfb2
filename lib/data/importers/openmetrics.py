"""OpenMetrics 1.0 text: what a Prometheus /metrics endpoint serves, here with timestamps.

    # TYPE http_requests counter
    # HELP http_requests Requests served.
    http_requests_total{code="200",path="/a \\"b\\""} 1027 1700000000.5
    http_requests_total{code="200",path="/a \\"b\\""} 1031 1700000015.5 # {trace_id="x"} 1 1700000015.2
    # EOF

Every sample line is a point of the series named by its sample name, kept verbatim:
`http_requests_total` above, `x_bucket` with its `le` label, `x_count`, `x_created`. The
`# TYPE`, `# HELP` and `# UNIT` lines rename nothing; they are checked (a valid name, a known
type, at most one of each per family) and otherwise ignored. Label values are unescaped (`\\\\`,
`\\"`, `\\n`; a backslash before any other character stays a backslash, as the standard says), and a
label whose value is empty is no label ("treated as if the label was not present"). Exemplars
(` # {...} value [timestamp]` after a sample) are skipped and counted in a warning.

Timestamps are unix seconds, converted exactly (Decimal, timestamps.parse_seconds). A sample
without one is an error naming its line: a file cannot tell when it was scraped.

The text must end with `# EOF`, followed by at most one line feed: an exposition without it is
incomplete, and anything after it is refused. The Prometheus text format 0.0.4 looks the same but
has no `# EOF` and counts timestamps in milliseconds. A truncated OpenMetrics file lacks `# EOF`
too, so the two cannot be told apart reliably, and 0.0.4 is not read (the error says so) rather
than risk reading seconds as milliseconds. As the standard requires, lines end in a line feed
alone: a carriage return before it, a blank line, or a line starting with "#" other than the four
above is an error naming its line. The text is read a chunk at a time, like CSV.
"""
import re

from lib.data.importers.fields import BadField, parse_value, show
from lib.data.importers.files import text_lines
from lib.data.importers.timestamps import parse_seconds
from lib.errors import FormatError

METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_LABEL = rf'({LABEL_NAME})="((?:[^"\\]|\\.)*)"'  # the value still escaped
_SAMPLE_START = re.compile(rf"({METRIC_NAME})(\{{(?:{_LABEL}(?:,{_LABEL})*)?\}})?")
_LABELS = re.compile(_LABEL)
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"\\": "\\", '"': '"', "n": "\n"}
_DESCRIPTOR = re.compile(rf"# (TYPE|HELP|UNIT) ({METRIC_NAME})(?: (.*))?")
METRIC_TYPES = frozenset(("counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary",
                          "unknown"))
EOF_LINE = "# EOF"


def read_openmetrics(path, collector, warnings):
    reader = _Exposition(collector)
    line_number = 0
    try:
        for line_number, line in enumerate(text_lines(path, collector.chunk_done), 1):
            reader.read_line(line)
    except BadField as exc:
        raise FormatError(f"{path}:{line_number}: {exc}") from None
    if not reader.ended:
        raise FormatError(
            f"{path}: no '# EOF' line at the end: the exposition is incomplete, or it is the Prometheus text "
            f"format 0.0.4 (millisecond timestamps), which is not read; only OpenMetrics 1.0 is"
        )
    if reader.exemplars:
        warnings.append(f"{path}: skipped {reader.exemplars} exemplars (only samples are series)")


class _Exposition:
    """The state of a read: the families described so far, the series met, the exemplars skipped."""

    def __init__(self, collector):
        self.collector = collector
        self.series_columns = {}  # the sample's name and label text as written -> arrays
        self.descriptors = set()  # (keyword, family name) pairs seen
        self.ended = False
        self.exemplars = 0

    def read_line(self, line):
        if self.ended:
            raise BadField("text after '# EOF', which must end the exposition")
        text = line[:-1] if line.endswith("\n") else line
        if text.endswith("\r"):
            raise BadField("line ends in CR LF; OpenMetrics lines end in a line feed alone")
        if text == EOF_LINE:
            self.ended = True
        elif text.startswith("#"):
            self._read_descriptor(text)
        elif not text:
            raise BadField("blank line (OpenMetrics has none)")
        else:
            self._read_sample(text)

    def _read_descriptor(self, text):
        match = _DESCRIPTOR.fullmatch(text)
        if not match:
            raise BadField(f"unexpected line {show(text)}: a '#' line is # TYPE, # HELP, # UNIT or # EOF")
        keyword, family, argument = match.groups()
        if (keyword, family) in self.descriptors:
            raise BadField(f"a second # {keyword} line for {family}")
        self.descriptors.add((keyword, family))
        if keyword == "TYPE" and argument not in METRIC_TYPES:
            raise BadField(f"unknown metric type {show(argument or '')} for {family}")

    def _read_sample(self, text):
        match = _SAMPLE_START.match(text)
        if not match:
            raise BadField(f"expected a metric name at the start of {show(text)}")
        rest = text[match.end():]
        if rest.startswith("{"):
            raise BadField(f"malformed labels in {show(text)}: expected {{name=\"value\",...}}")
        if not rest.startswith(" "):
            raise BadField(f"malformed sample {show(text)}: expected name{{labels}} value timestamp")
        value_text, _, rest = rest[1:].partition(" ")
        value = parse_value(value_text)
        timestamp_text, _, rest = rest.partition(" ")
        if not timestamp_text or timestamp_text == "#":
            raise BadField("missing timestamp: a stored dataset needs one per sample (a file cannot tell "
                           "when it was scraped)")
        if rest:
            if not rest.startswith("# {"):
                raise BadField(f"unexpected text after the timestamp: {show(rest)}")
            self.exemplars += 1
        timestamp = _timestamp(timestamp_text)
        timestamps, values = self._columns(match)
        timestamps.append(timestamp)
        values.append(value)

    def _columns(self, match):
        key = match.group(0)
        columns = self.series_columns.get(key)
        if columns is None:
            name, label_text = match.group(1), match.group(2) or "{}"
            columns = self.series_columns[key] = self.collector.columns(name, _labels(label_text))
        return columns


def _timestamp(text):
    try:
        return parse_seconds(text)
    except BadField as exc:
        if text.isdigit():  # out of range as seconds: most likely milliseconds
            raise BadField(f"{exc} as seconds (the Prometheus text format 0.0.4 counts milliseconds; "
                           f"it is not read, only OpenMetrics 1.0 is)") from None
        raise


def _labels(label_text):
    """The labels of `{a="x",b="y \\"quoted\\""}`, unescaped; empty values dropped."""
    labels = {}
    for match in _LABELS.finditer(label_text):
        name, value = match.group(1), _ESCAPE.sub(_unescape, match.group(2))
        if name in labels:
            raise BadField(f"label {name!r} given twice")
        if value:
            labels[name] = value
    return labels


def _unescape(match):
    char = match.group(1)
    return _UNESCAPED.get(char, "\\" + char)
