"""The one exception type for a user's mistake.

Anything the user can fix (a missing file, an image with no face, a motion file with NaN)
raises `VasaError` with a one-line message. The CLI prints that line and exits non-zero;
the app shows it. Any other exception is a bug in vasa-kit and keeps its traceback.
"""


class VasaError(Exception):
    """A problem with the user's input, explained in one line."""


class TooLong(VasaError):
    """Input longer than a length limit: a front end may add how to raise the limit."""
