"""What the benchmarks print of the machine they ran on (a sibling module of the scripts, not a package)."""

from __future__ import annotations

import platform


def cpu_name() -> str:
    """The processor's model name from ``/proc/cpuinfo`` (Linux), else what :mod:`platform` says."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        return cpu
