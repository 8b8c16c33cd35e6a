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


class OutputBusyError(CoverplanError):
    """Another coverplan process is writing the same output."""
