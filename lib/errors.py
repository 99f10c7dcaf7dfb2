"""The project's error types.

Every decoder raises `FormatError` for damaged or invalid input, so a caller can catch one type and
know the data was refused rather than silently misread. The command-line scripts turn any
`SqueezedSignalsError` into one line on stderr and exit code 2.

`UnrepresentableError` is the exporters' refusal: the data is fine, but the chosen text format has
no way to write some of it (a NaN in line protocol, a NaN payload anywhere), and writing anything
else instead would change the data without saying so.
"""


class SqueezedSignalsError(Exception):
    """Base class for errors a user can cause and fix (bad input, missing files)."""


class FormatError(SqueezedSignalsError, ValueError):
    """Input bytes are truncated, corrupted or not in the expected format."""


class UnrepresentableError(SqueezedSignalsError):
    """A format cannot carry something in the data; the message names the series, point and what."""


class MissingDatasetError(SqueezedSignalsError, FileNotFoundError):
    """A phase was run before the dataset it reads exists."""


class RoundTripError(SqueezedSignalsError, AssertionError):
    """Data read back from a file differs from what was written."""
