"""The output folder: written whole or not at all, by one run at a time, replaced only when coverplan wrote it.

:func:`output_folder` is how every command writes its folder:

1. **Refusals first.** The folder may not be the working folder or hold it,
   nor hold the scenario's inputs (``-o .`` is refused, never emptied); an
   existing folder is used only when it is empty or, with ``overwrite``,
   when it holds the marker :data:`MARKER` and nothing but the files the
   marker lists (so a user's own files are never deleted).
2. **A lock.** ``.<name>.coverplan-lock`` beside the folder is locked with
   ``flock`` for as long as the run writes (the CLI takes it before the run
   starts, with :func:`claim_output`); a second run gets
   :class:`~coverplan.errors.OutputBusyError`. The kernel releases the lock
   when a process dies, even by ``kill -9``.
3. **A sweep.** Temporary folders of writers that died
   (``.<name>.<pid>.<host>.<random>.part``) are removed; a folder set aside
   by a writer killed between its two renames (``….old``) is put back.
4. **The files** go into a temporary folder ``.<name>.<pid>.<host>.<random>.part``
   beside the target; then the marker, a flush and the rename. An existing
   folder is renamed aside first and removed after; on any failure the
   temporary folder is removed and the old folder stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from coverplan.errors import (
    CoverplanError,
    InputError,
    OutputBusyError,
    OutputExistsError,
    OutputFolderError,
    OutputWriteError,
)
from coverplan.writing import deferred_signals, fsync_path, owner_tag, stale_owner, write_error, write_text

__all__ = ["MARKER", "claim_output", "output_folder"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: The marker file coverplan writes into every output folder (JSON: who wrote it, the command, the files).
#: ``--overwrite`` replaces only a folder that holds it, and only when the folder holds nothing else than
#: the files it lists.
MARKER = ".coverplan-output"
_MARKER_KIND = "coverplan output folder"
#: What file browsers leave in a folder they showed; replacing them loses nothing.
_DESKTOP_FILES = (".DS_Store", "Thumbs.db", "desktop.ini")

#: Locks this process holds: target -> [thread id, file descriptor, depth]; a run that claimed its folder
#: (the CLI, before it computes) writes it without locking it again.
_HELD: dict[Path, list[int]] = {}
_HELD_GUARD = threading.Lock()


def _shown(raw: PathLike, real: Path) -> str:
    return str(raw) if str(raw) == str(real) else f"{raw} ({real})"


def checked_target(path: PathLike, *, protect: Iterable[PathLike] = ()) -> Path:
    """The absolute output folder, refused when it is or holds the working folder or an input of the run.

    ``protect``: files (the scenario and its inputs) whose folders must not be
    replaced. Raises :class:`~coverplan.errors.OutputFolderError`.
    """
    raw = Path(path)
    target = Path(os.path.abspath(raw))
    real = target.resolve()
    if target.is_symlink():
        raise OutputFolderError(f"{_shown(raw, real)}: is a symbolic link; give the folder itself, or a new one")
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        raise OutputFolderError(f"{_shown(raw, real)}: is the working folder or holds it; coverplan replaces its "
                                "output folder whole, so give a new folder (such as ./coverplan-out)")
    for p in protect:
        rp = Path(os.path.abspath(p)).resolve()
        if real == rp or real in rp.parents:
            raise OutputFolderError(f"{_shown(raw, real)}: holds {p}, an input of this run; give a new folder for "
                                    "the outputs")
    if target.exists() and not target.is_dir():
        raise InputError(f"{raw}: exists and is not a folder; choose another output folder")
    if not target.parent.is_dir():
        raise InputError(f"{raw}: folder {target.parent} does not exist; create it first")
    return target


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of a coverplan output folder, or None when there is none (or it is not coverplan's)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("kind") != _MARKER_KIND or not isinstance(data.get("files"), list):
        return None
    return data


def check_replaceable(target: Path, *, overwrite: bool, raw: PathLike | None = None) -> None:
    """Raise unless ``target`` is missing, empty, or (with ``overwrite``) a coverplan folder holding only its files."""
    shown = raw if raw is not None else target
    if not target.exists():
        return
    entries = sorted(os.listdir(target))
    if not entries:
        return
    marker = read_marker(target)
    if marker is None:
        raise OutputFolderError(f"{shown}: exists and coverplan did not write it (it has no {MARKER} file); choose "
                                "an empty or new output folder (--overwrite replaces only a coverplan output folder)")
    if not overwrite:
        raise OutputExistsError(f"{shown}: exists; pass --overwrite to replace it")
    ours = {MARKER, *_DESKTOP_FILES, *(str(f) for f in marker["files"])}
    extra = [e for e in entries if e not in ours]
    if extra:
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        raise OutputFolderError(f"{shown}: holds {extra[0]}{more}, which coverplan did not write; --overwrite "
                                "replaces the whole folder, so move them out of it or choose an empty or new folder")


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.coverplan-lock"


def _try_lock(fd: int) -> bool:
    """Lock ``fd`` without waiting; False when another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - the lock dies with the process there too
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _acquire(target: Path) -> int:
    """Lock ``target``'s lock file; the lock dies with the process (``flock``), so a killed run never blocks."""
    lock = _lock_path(target)
    for _ in range(20):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise write_error(target, exc) from None
        try:
            locked = _try_lock(fd)
        except OSError as exc:  # no locks on this file system (some FUSE mounts): go on, unguarded
            log.warning("%s: cannot lock %s (%s); a second run to the same folder would not be stopped",
                        target, lock, exc)
            return fd
        if not locked:
            who = ""
            with contextlib.suppress(OSError):
                os.lseek(fd, 0, os.SEEK_SET)
                who = os.read(fd, 200).decode(errors="replace").strip()
            os.close(fd)
            raise OutputBusyError(f"{target}: another coverplan run ({who or 'a live process'}) is writing it; wait "
                                  "for it to finish or choose another output folder")
        # its previous holder removes the lock file as it lets go: lock the file that is there now
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            pid, host = owner_tag().split(".", 1)
            with contextlib.suppress(OSError):  # for the message of a second run only
                os.ftruncate(fd, 0)
                os.write(fd, f"pid {pid} on {host}\n".encode())
            return fd
        os.close(fd)
    raise OutputBusyError(f"{target}: other coverplan runs keep taking it; wait for them or choose another folder")


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Hold ``target``'s lock while the block runs (at once again when this thread holds it already)."""
    me = threading.get_ident()
    with _HELD_GUARD:
        held = _HELD.get(target)
        if held is not None and held[0] != me:
            raise OutputBusyError(f"{target}: another thread of this process is writing it; write one at a time")
        if held is not None:
            held[2] += 1
    if held is not None:
        try:
            yield
        finally:
            with _HELD_GUARD:
                held[2] -= 1
        return
    fd = _acquire(target)
    with _HELD_GUARD:
        _HELD[target] = [me, fd, 1]
    try:
        yield
    finally:
        with _HELD_GUARD:
            del _HELD[target]
        with deferred_signals():
            with contextlib.suppress(OSError):
                _lock_path(target).unlink()
            os.close(fd)


def sweep(target: Path) -> None:
    """Remove what writers of ``target`` that died left beside it; put back a folder one of them set aside."""
    prefix = f".{target.name}."
    try:
        entries = [e for e in os.scandir(target.parent) if e.name.startswith(prefix)]
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        if stale_owner(entry.name, prefix, ".part"):
            log.info("removing %s, left by a run that died", entry.path)
            shutil.rmtree(entry.path, ignore_errors=True)
        elif stale_owner(entry.name, prefix, ".old"):
            if not target.exists() and os.listdir(entry.path):
                log.warning("%s: putting back the previous output, set aside by a run that died", target)
                os.replace(entry.path, target)
            else:
                shutil.rmtree(entry.path, ignore_errors=True)


@contextlib.contextmanager
def claim_output(path: PathLike, *, overwrite: bool = False, protect: Iterable[PathLike] = ()) -> Iterator[Path]:
    """Check and lock the output folder ``path`` for a whole run; yields the absolute folder.

    The CLI claims its folder before it computes, so a refused folder or a
    second run to the same folder is an error at once, not after the work;
    :func:`output_folder` inside the block writes it without locking again.
    """
    with _as_write_error(path):  # a folder one may not even look into: "permission denied", not a traceback
        target = checked_target(path, protect=protect)
        check_replaceable(target, overwrite=overwrite, raw=path)
    with _locked(target):
        with _as_write_error(path):
            sweep(target)
            check_replaceable(target, overwrite=overwrite, raw=path)
        yield target


@contextlib.contextmanager
def _as_write_error(path: PathLike) -> Iterator[None]:
    try:
        yield
    except CoverplanError:
        raise
    except OSError as exc:
        raise write_error(path, exc) from None


@contextlib.contextmanager
def output_folder(path: PathLike, *, overwrite: bool = False, command: str = "coverplan",
                  protect: Iterable[PathLike] = ()) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it becomes ``path`` (with the marker) when the block succeeds.

    If the block raises, or a write fails, the temporary folder is removed and
    ``path`` (if it existed) is left as it was; a failed write raises
    :class:`~coverplan.errors.OutputWriteError` naming the file as it would
    have been in ``path``. ``command`` is recorded in the marker; ``protect``
    lists the run's input files (see :func:`checked_target`).
    """
    with claim_output(path, overwrite=overwrite, protect=protect) as target:
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{owner_tag()}.", suffix=".part", dir=target.parent))
        except OSError as exc:
            raise write_error(target, exc) from None
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)
            yield tmp
            _write_marker(tmp, command)
            _commit(tmp, target)
        except OutputWriteError as exc:
            _remove(tmp)
            where = Path(str(exc.path).replace(str(tmp), str(target))) if exc.path is not None else target
            raise OutputWriteError(str(exc).replace(str(tmp), str(target)), path=where, cause=exc.cause,
                                   errno_=exc.errno) from None
        except CoverplanError:
            _remove(tmp)
            raise
        except OSError as exc:
            _remove(tmp)
            raise write_error(target, exc) from None
        except BaseException:
            _remove(tmp)
            raise


def _remove(tmp: Path) -> None:
    with deferred_signals():
        shutil.rmtree(tmp, ignore_errors=True)


def _write_marker(folder: Path, command: str) -> None:
    from coverplan import __version__

    files = sorted(p.name for p in folder.iterdir())
    marker = {"kind": _MARKER_KIND, "written_by": f"coverplan {__version__}", "command": command, "files": files,
              "note": "coverplan --overwrite replaces this folder whole, and only while it holds no other files "
                      "than these; delete this file and coverplan will never replace the folder"}
    write_text(folder / MARKER, json.dumps(marker, indent=2, ensure_ascii=False) + "\n")


def _commit(tmp: Path, target: Path) -> None:
    """Rename the complete folder into place; an existing one (checked under the lock) is set aside, then removed."""
    fsync_path(tmp, folder=True)
    old: Path | None = None
    with deferred_signals():
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.{owner_tag()}.", suffix=".old", dir=target.parent))
            try:
                os.replace(target, old)
                os.replace(tmp, target)
            except BaseException:
                if not target.exists():
                    os.replace(old, target)  # put the previous output back
                else:
                    _remove(old)
                raise
        else:
            os.replace(tmp, target)
    fsync_path(target.parent, folder=True)
    if old is not None:
        _remove(old)
