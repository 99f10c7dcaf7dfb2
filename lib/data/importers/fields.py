"""One field of text as a number, and the error every reader raises for a field it cannot read.

Values are parsed with `float()`, which rounds correctly, so "0.1" becomes exactly the float64
that `0.1` is in Python. `NaN`, `+Inf`, `-Inf` and `Inf` are accepted in any case, as Prometheus
writes them. Only ASCII is a number: `float()` would read the Arabic-Indic digit "١" as 1.0.
An empty value is an error: a point without a value is not a point.
"""


class BadField(ValueError):
    """A single field could not be parsed; the reader adds the file and line to the message."""


def parse_value(text):
    """A float64 from its text exactly as Python's float() reads it (NaN and Inf included)."""
    # float() also reads "1_000" as Python source would, and any Unicode digit or space ("\u0661"
    # is 1.0); exporters write ASCII numerals only, so anything else is refused, not guessed.
    if "_" in text or not text.isascii():
        raise BadField(f"unparseable value {show(text)}")
    try:
        return float(text)
    except ValueError:
        raise BadField(f"unparseable value {show(text)}") from None


def show(text, limit=40):
    """Quote user text for a one-line error message, shortened if long."""
    return repr(text if len(text) <= limit else text[:limit] + "...")
