"""Writing one output file safely: a temporary name, a checked write, a rename.

Every output coverplan writes goes through :func:`atomic_path`: the file is
written under a temporary name beside its target (``.<name>.<pid>.<host>.<random>.part<suffix>``),
flushed to the disk (``fsync``) and renamed into place. A write that fails
(no space left, a read-only disk, no permission, an error GDAL reports)
removes the temporary file, leaves whatever was at the target as it was and
raises :class:`~coverplan.errors.OutputWriteError`, whose message names the
output, the cause in words and the fix.

The temporary name carries the writer's process id and host, so a later
write to the same target removes the temporary files of writers that died
(``kill -9``, a power cut) and never those of a live one.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coverplan.errors import CoverplanError, InputError, OutputExistsError, OutputWriteError

__all__ = ["atomic_path", "deferred_signals", "owner_alive", "owner_tag", "write_error", "write_text"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: errno -> (the cause in words, the fix), for the messages of :class:`~coverplan.errors.OutputWriteError`.
CAUSES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("no space left on device", "free some space on that disk or choose another output location"),
    errno.EDQUOT: ("disk quota exceeded", "free some space within your quota or choose another output location"),
    errno.EROFS: ("read-only file system", "choose an output location on a writable disk"),
    errno.EACCES: ("permission denied", "choose an output location you can write to, or fix its permissions"),
    errno.EPERM: ("permission denied", "choose an output location you can write to, or fix its permissions"),
    errno.EFBIG: ("file too large for that file system", "choose an output location on another disk"),
    errno.EIO: ("input/output error (a failing disk or a removed drive?)", "check the disk and run again"),
}
#: What GDAL and SQLite say when they mean one of :data:`CAUSES` (their errors carry no errno).
_CAUSE_WORDS = (
    (errno.ENOSPC, ("no space left", "disk is full", "disk full", "free disk space")),
    (errno.EDQUOT, ("quota exceeded",)),
    (errno.EROFS, ("read-only file system", "readonly database", "read-only database")),
    (errno.EACCES, ("permission denied",)),
)
#: Below this much free space after a failed write, the disk is taken to be full.
_NEARLY_FULL_BYTES = 1 << 20
#: Files an SQLite (GeoPackage) or GDAL write may leave beside the file it writes.
_SIDECARS = ("-journal", "-wal", "-shm", ".aux.xml")


def owner_tag() -> str:
    """``<pid>.<host>``: who writes a temporary file or folder, as its name records it."""
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"
    return f"{os.getpid()}.{host}"


def owner_alive(pid: int, host: str) -> bool:
    """Whether the process ``pid`` on ``host`` may still be running (True when it cannot be told: another host)."""
    if host != owner_tag().split(".", 1)[1] or pid == os.getpid():
        return True
    if sys.platform == "win32":  # pragma: no cover - os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    with contextlib.suppress(OSError, IndexError):  # a zombie has died; only its parent has not reaped it yet
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def stale_owner(name: str, prefix: str, suffix: str) -> bool:
    """Whether ``name`` is ``<prefix><pid>.<host>.<random><suffix>`` of a process that has died."""
    m = re.fullmatch(re.escape(prefix) + r"(\d+)\.([A-Za-z0-9-]+)\.[a-z0-9_]+" + re.escape(suffix), name)
    return m is not None and not owner_alive(int(m.group(1)), m.group(2))


def _cause(exc: BaseException | None, folder: Path, text: str) -> tuple[int | None, str]:
    """The errno and the words of why a write into ``folder`` failed: the error's errno, what GDAL said, the disk."""
    if isinstance(exc, OSError) and exc.errno in CAUSES:
        return exc.errno, CAUSES[exc.errno][0]
    said = f"{exc or ''} {text}".lower()
    for code, words in _CAUSE_WORDS:
        if any(w in said for w in words):
            return code, CAUSES[code][0]
    try:  # GDAL often says only "write failed" or worse: ask the disk
        st = os.statvfs(folder)
        if st.f_flag & os.ST_RDONLY:
            return errno.EROFS, CAUSES[errno.EROFS][0]
        if st.f_bavail * st.f_frsize < _NEARLY_FULL_BYTES:
            return errno.ENOSPC, CAUSES[errno.ENOSPC][0]
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        pass
    if not os.access(folder, os.W_OK):
        return errno.EACCES, CAUSES[errno.EACCES][0]
    detail = " ".join(f"{exc or ''} {text}".split()) or "no reason given"
    return getattr(exc, "errno", None), f"the write failed ({detail})"


def write_error(target: PathLike, exc: BaseException | None = None, *, text: str = "") -> OutputWriteError:
    """The :class:`~coverplan.errors.OutputWriteError` for a failed write of ``target``: its cause and the fix."""
    target = Path(target)
    folder = target.parent if os.path.isdir(target.parent) else Path(os.path.abspath(target)).parent
    code, cause = _cause(exc, folder, text)
    fix = CAUSES[code][1] if code in CAUSES else "check the disk and the folder, and run again"
    return OutputWriteError(f"{target}: cannot write it: {cause}; {fix} (anything already there is unchanged)",
                            path=target, cause=cause, errno_=code)


def fsync_path(path: Path, *, folder: bool = False) -> None:
    """Flush a written file (or a folder's entries) to the disk: late write errors surface here, not after."""
    if folder and sys.platform == "win32":  # pragma: no cover - folders cannot be opened there
        return
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if folder else 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if not folder or exc.errno not in (errno.EINVAL, errno.EBADF):  # some file systems cannot sync folders
            raise
    finally:
        os.close(fd)


def _sweep_stale_files(target: Path) -> None:
    """Remove the temporary files of dead writers of ``target`` (never those of a live process)."""
    prefix, suffix = f".{target.name}.", ".part" + target.suffix
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if entry.name.startswith(prefix) and stale_owner(entry.name, prefix, suffix) and entry.is_file():
                log.info("removing %s, left by a writer that died", entry.path)
                Path(entry.path).unlink(missing_ok=True)


def _remove_temp(tmp: Path) -> None:
    for extra in ("", *_SIDECARS):
        with contextlib.suppress(OSError):
            Path(str(tmp) + extra).unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; check, flush and rename it into place on success.

    If the block raises, the temporary file is removed and ``path`` is left as
    it was. Without ``overwrite`` an existing ``path`` is an error. An OS error
    while writing (inside the block, on ``fsync`` or on the rename) becomes an
    :class:`~coverplan.errors.OutputWriteError` naming ``path``, the cause and
    the fix.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target}: exists; pass overwrite (--overwrite) to replace it")
    if target.is_dir():
        raise InputError(f"{target}: is a folder; give the name of a file to write")
    if not target.parent.exists():
        raise InputError(f"{target}: folder {target.parent} does not exist; create it first")
    _sweep_stale_files(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{owner_tag()}.", suffix=".part" + target.suffix,
                                   dir=target.parent)
    except OSError as exc:
        raise write_error(target, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the output the permissions of a normal write
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp_path, 0o666 & ~umask)
        yield tmp_path
        fsync_path(tmp_path)
        with deferred_signals():
            os.replace(tmp_path, target)
        fsync_path(target.parent, folder=True)
    except CoverplanError:
        _remove_temp(tmp_path)
        raise
    except OSError as exc:
        _remove_temp(tmp_path)
        raise write_error(target, exc) from None
    except BaseException:
        _remove_temp(tmp_path)
        raise
    _test_pause(target)


def write_text(path: PathLike, text: str, *, encoding: str = "utf-8", overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_path` (``\\n`` line ends on every platform)."""
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp, open(tmp, "w", encoding=encoding, newline="\n") as fh:
        fh.write(text)
    return target


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the block runs (renames that must not stop half-way), then act on them.

    A signal that arrives inside is handled as usual once the block is over:
    its handler runs (Ctrl-C raises ``KeyboardInterrupt``) or, with the default
    action, it is sent again and ends the process. Only the main thread can
    change signal handlers; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if handler is not None:  # None: set outside Python; leave it alone
            previous[sig] = handler
            signal.signal(sig, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        if pending:
            first = pending[0]
            handler = previous[first]
            if callable(handler):
                handler(first, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), first)


#: Test-only hook: ``COVERPLAN_TEST_PAUSE_WRITE=<seconds>`` makes a process sleep that long once, after the first
#: file of an output folder the main thread writes into its temporary folder, so that tests can kill it there or
#: run a second writer against it. Never set it outside tests.
TEST_PAUSE_ENV = "COVERPLAN_TEST_PAUSE_WRITE"
_paused: list[bool] = []


def _test_pause(target: Path) -> None:
    import threading

    seconds = os.environ.get(TEST_PAUSE_ENV)
    if not seconds or _paused or not target.parent.name.endswith(".part"):
        return
    if threading.current_thread() is not threading.main_thread():
        return  # the GeoTIFFs' writer thread: the signals a test sends reach the main thread, so it pauses there
    import time

    _paused.append(True)
    log.warning("%s is set: pausing %s s after writing %s (a test hook)", TEST_PAUSE_ENV, seconds, target)
    time.sleep(float(seconds))


@contextlib.contextmanager
def captured_c_stderr() -> Iterator[list[str]]:
    """Catch what C libraries print on file descriptor 2 while the block runs (libtiff prints
    ``_tiffWriteProc: No space left on device.`` there itself); the lines are logged at debug level and handed to
    the caller, so a failed write is reported once, as one error, not as stray lines around it."""
    import threading

    lines: list[str] = []
    if os.name != "posix" or threading.current_thread() is not threading.main_thread():
        # fd 2 is the whole process's: redirected from another thread (the GeoTIFFs' writer), it would swallow
        # what the main thread says meanwhile, and mix it into this error
        yield lines
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        read_end, write_end = os.pipe()
    except (OSError, AttributeError, ValueError):
        yield lines
        return
    os.set_blocking(write_end, False)  # a full pipe loses lines rather than blocks the writer
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield lines
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.set_blocking(read_end, False)
        chunks = []
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(read_end, 65536):
                chunks.append(chunk)
        os.close(read_end)
        lines.extend(line for line in b"".join(chunks).decode(errors="replace").splitlines() if line.strip())
        for line in lines:
            log.debug("C library said: %s", line)
