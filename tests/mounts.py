"""Real tmpfs mounts for the disk-full and read-only tests (CI runs as root; elsewhere they skip, naming why)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def mount_tmpfs(where: Path, size_kib: int) -> Path:
    """A fresh tmpfs of ``size_kib`` at ``where`` (made here); skip the test, or fail it under CI, if refused."""
    where.mkdir()
    res = _run("mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(where))
    if res.returncode != 0:
        reason = f"cannot mount a tmpfs (uid {os.geteuid()}): {res.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI runs as root and must run these tests")
        pytest.skip(reason + "; run as root to test full and read-only disks")
    return where


def unmount(where: Path) -> None:
    if _run("umount", str(where)).returncode != 0:
        _run("umount", "-l", str(where))


def remount_read_only(where: Path) -> None:
    res = _run("mount", "-o", "remount,ro", str(where))
    assert res.returncode == 0, res.stderr
