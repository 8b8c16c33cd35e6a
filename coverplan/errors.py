"""Exceptions raised by coverplan.

Every error coverplan raises derives from :class:`CoverplanError`. Problems
with what the caller handed in (a file, a parameter, a row of a table) raise
:class:`InputError`, which is also a :class:`ValueError`, so code that
already catches ``ValueError`` keeps working. Messages name the file, row or
parameter at fault and say how to fix it.
"""

from __future__ import annotations


class CoverplanError(Exception):
    """Root of every exception raised by coverplan."""


class InputError(CoverplanError, ValueError):
    """Bad input: a parameter out of range, an unreadable or invalid file."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or unsuitable."""


class DEMError(InputError):
    """A digital elevation model cannot be used (unreadable, mostly void...)."""


class OutsideError(InputError):
    """A point lies outside the extent of the data it is to be looked up in."""


class OutputExistsError(CoverplanError, FileExistsError):
    """An output file exists and overwriting was not asked for."""


class OutputWriteError(CoverplanError, OSError):
    """An output could not be written: no space left, a read-only disk, no permission, a write GDAL failed.

    The message names the output, the cause and the fix; ``path`` is the output, ``cause`` the cause in words
    ("no space left on device"). Whatever was there before is left as it was.
    """

    def __init__(self, message: str, *, path: object = None, cause: str = "", errno_: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.cause = cause
        if errno_ is not None:
            self.errno = errno_


class OutputFolderError(InputError):
    """An output folder cannot be used: it holds files coverplan did not write, the inputs or the working folder."""


class FetchError(CoverplanError):
    """A download from a public source failed: the server cannot be reached, answered an HTTP error, timed out or
    sent a truncated body. The message names the source, the URL and what to do; nothing half-written is left,
    in the cache or the output."""


class NotCachedError(FetchError):
    """Offline (``--offline``), and what is asked for is not in the cache; ``url`` names it."""

    def __init__(self, message: str, *, source: str = "", url: str = "") -> None:
        super().__init__(message)
        self.source = source
        self.url = url

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (_not_cached, (str(self), self.source, self.url))


def _not_cached(message: str, source: str, url: str) -> NotCachedError:
    return NotCachedError(message, source=source, url=url)


class OutputBusyError(CoverplanError):
    """Another coverplan process is writing the same output."""


class TableError(InputError):
    """Problems in rows of a table (a site or facility table), reported together.

    One problem reads ``"<file>: line 7: height_m is empty; every row needs it"``,
    as before tables were checked whole; several read
    ``"<file>: 3 rows have problems: line 4: ...; line 9: ...; line 12: ..."``,
    listing up to :data:`PROBLEMS_SHOWN` of them, then ``"and N more"``.

    Attributes
    ----------
    path : str
        The table's file.
    where : str
        What a row is called in the file: ``"line"`` (CSV, the header is
        line 1) or ``"feature"`` (vector files, from 1).
    problems : tuple of (int, str)
        The first problems in row order: the row as a person finds it in the
        file, and what is wrong there.
    count : int
        Problems in all.
    rows : int
        Rows with at least one problem.
    """

    def __init__(self, path: object, where: str, problems: tuple[tuple[int, str], ...], count: int,
                 rows: int) -> None:
        self.path, self.where, self.problems, self.count, self.rows = str(path), where, tuple(problems), count, rows
        super().__init__(self._message())

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:  # pickles with its arguments, not its message
        return (type(self), (self.path, self.where, self.problems, self.count, self.rows))

    def _message(self) -> str:
        if self.rows == 1:
            return f"{self.path}: {self.where} {self.problems[0][0]}: " + "; ".join(t for _, t in self.problems)
        listed = "; ".join(f"{self.where} {row}: {text}" for row, text in self.problems)
        more = self.count - len(self.problems)
        return (f"{self.path}: {self.rows:,} rows have problems: {listed}"
                + (f"; and {more:,} more" if more > 0 else ""))


#: How many of a table's problems a :class:`TableError` lists before "and N more".
PROBLEMS_SHOWN = 20
