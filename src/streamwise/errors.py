"""One exception hierarchy whose messages are meant for people, not stack traces.

The CLI prints ``str(error)`` and exits non-zero; the API turns it into a problem document.
"""


class StreamwiseError(Exception):
    """Base class: the message says what went wrong and, where possible, what to do next."""

    exit_code = 1


class ConfigError(StreamwiseError):
    """The organisation configuration (streamwise.yaml) is missing or invalid."""

    exit_code = 2


class ImportFileError(StreamwiseError):
    """An import file is malformed; the message names file, row and column."""

    exit_code = 3


class DatabaseError(StreamwiseError):
    """The database cannot be reached or is not at the expected schema version."""

    exit_code = 4


class NotFoundError(StreamwiseError):
    """A named object (source, value stream, …) does not exist."""

    exit_code = 5


class SourceError(StreamwiseError):
    """A connected tool could not be read: unreachable, refusing, or answering nonsense."""

    exit_code = 6


class AuthenticationError(SourceError):
    """A tool refused our credentials; the message names the source, the URL and what to
    check."""

    exit_code = 7
