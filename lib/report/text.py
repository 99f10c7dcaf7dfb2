"""Report text that fits a terminal: prose wrapped at REPORT_WIDTH columns, names shortened.

Every chapter prints its report to a terminal, and a learner reads it there: a 300-column footnote
wraps wherever the terminal likes. So prose goes through `wrap`, which breaks it between words, and
data that cannot be broken (a series with many labels, a path, a line of the file) through
`shorten`, which keeps both ends: `cpu{host="a",region="eu-west-1"}` in 20 columns is
`cpu{host="…-west-1"}`.
"""
import textwrap

REPORT_WIDTH = 120
ELLIPSIS = "…"


def wrap(text, indent="  ", width=REPORT_WIDTH, hanging=None):
    """`text` broken between words into lines of at most `width` columns, the first indented by
    `indent` and the rest by `hanging` (default: the same)."""
    hanging = indent if hanging is None else hanging
    return "\n".join(textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=hanging,
                                   break_long_words=False, break_on_hyphens=False))


def shorten(text, width):
    """`text` if it fits `width` columns, else its start and end around an ellipsis."""
    if len(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return text[:width]
    head = (width - len(ELLIPSIS) + 1) // 2
    tail = width - len(ELLIPSIS) - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def plural(count, noun, nouns=None):
    """plural(1, "block") -> "1 block", plural(7, "block") -> "7 blocks", plural(2, "series", "series")."""
    return f"{count:,} " + (noun if count == 1 else nouns or noun + "s")


def percent(fraction):
    """A share or a relative error as a percentage with 3 significant digits: 0.6037 -> "60.4%",
    0.0068 -> "0.68%", 1e25 -> "1e+27%" (a relative error has no upper bound)."""
    return f"{100 * fraction:.3g}%"
