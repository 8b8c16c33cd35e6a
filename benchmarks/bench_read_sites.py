"""How long :func:`coverplan.radio.sites.read_sites` takes to read and validate a large site table.

A seeded table of ``--rows`` sector rows (default 1,000,000: three sectors a
mast at about 333,000 masts spread over northern Vietnam, 2G-5G, 900-3500
MHz, EIRP or a power budget on alternate rows, azimuths, beamwidths and
tilts) is written to a CSV, then read in a fresh Python process per repeat.
The child process times ``read_sites`` itself (in-process) and reports its
peak resident memory before and after it (``resource.getrusage``, Linux
``ru_maxrss``); the parent times the whole child process (interpreter
start-up, imports, reading, validation). The table is written by a process
of its own too, so the parent stays small (a child's ``ru_maxrss`` counts
from the size of the parent it was forked from).

With ``--all-eirp`` every row gives ``eirp_dbm`` (no power budgets; the
table read_sites could take before it was vectorised). With ``--bad N`` the
table gets N faulty rows (a negative height, an unknown technology, a
non-numeric frequency, in turn), to time the error path: the child then
reports the error's length instead of the table.

Usage::

    .venv/bin/python benchmarks/bench_read_sites.py              # 1,000,000 rows, best of 3
    .venv/bin/python benchmarks/bench_read_sites.py --rows 100000 --repeats 1
    .venv/bin/python benchmarks/bench_read_sites.py --bad 5000   # the error path
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_table(path: Path, rows: int, seed: int, bad: int, *, all_eirp: bool = False) -> None:
    """A seeded site table of ``rows`` sector rows (3 a mast) with ``bad`` faulty rows spread through it.

    Every other row gives its power budget instead of ``eirp_dbm``, unless ``all_eirp``.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    masts = (rows + 2) // 3
    mast = np.repeat(np.arange(masts), 3)[:rows]
    sector = np.tile(np.array(["1", "2", "3"]), masts)[:rows]
    lon = np.round(rng.uniform(102.2, 108.0, masts), 6)[mast]
    lat = np.round(rng.uniform(19.0, 23.3, masts), 6)[mast]
    tech = np.array(["2G", "3G", "4G", "5G"])[rng.integers(0, 4, masts)][mast]
    freq = np.array([900, 1800, 2100, 2600, 3500])[rng.integers(0, 5, masts)][mast].astype(str)
    height = np.round(rng.uniform(15, 60, masts), 1)[mast].astype(str)
    budget = (np.arange(rows) % 2).astype(bool) & (not all_eirp)
    eirp = np.where(budget, "", np.round(rng.uniform(50, 62, rows), 1).astype(str))
    table = pd.DataFrame({
        "site_id": np.char.add("VN", mast.astype(str)), "sector": sector, "lon": lon, "lat": lat,
        "height_m": height, "frequency_mhz": freq, "technology": tech, "eirp_dbm": eirp,
        "tx_power_dbm": np.where(budget, np.round(rng.uniform(40, 46, rows), 1).astype(str), ""),
        "antenna_gain_dbi": np.where(budget, "17", ""), "losses_db": np.where(budget, "2", ""),
        "azimuth_deg": (np.tile([0, 120, 240], masts)[:rows] + rng.integers(0, 30, rows)).astype(str),
        "beamwidth_deg": "65", "tilt_deg": rng.integers(0, 8, rows).astype(str),
        "operator": np.array(["A", "B", "C"])[rng.integers(0, 3, masts)][mast], "source": "bench",
    })
    if bad:
        at = rng.choice(rows, size=min(bad, rows), replace=False)
        kinds = np.arange(len(at)) % 3
        table.loc[at[kinds == 0], "height_m"] = "-5"
        table.loc[at[kinds == 1], "technology"] = "LTE"
        table.loc[at[kinds == 2], "frequency_mhz"] = "9OO"
    table.to_csv(path, index=False)


def child(path: str) -> None:
    """Run in a fresh process: time read_sites on ``path`` and print JSON with the figures."""
    import geopandas  # noqa: F401  (the imports read_sites makes are not what is timed)

    from coverplan.errors import InputError
    from coverplan.radio import antenna  # noqa: F401
    from coverplan.radio.sites import read_sites

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    try:
        out = {"rows": len(read_sites(path))}
    except InputError as exc:
        out = {"error_chars": len(str(exc)), "error_start": str(exc)[:160]}
    out["seconds"] = time.perf_counter() - t0
    out["rss_before_mib"] = before / 1024
    out["rss_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--bad", type=int, default=0, help="faulty rows to put in the table (default none)")
    ap.add_argument("--all-eirp", action="store_true", help="eirp_dbm on every row (no power budgets)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="write the table here and keep it")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--write", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if args.write:
        write_table(args.write, args.rows, args.seed, args.bad, all_eirp=args.all_eirp)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "sites.csv"
        t0 = time.perf_counter()
        # in a process of its own, so that this one stays small: a child's ru_maxrss starts from its parent's
        subprocess.run([sys.executable, __file__, "--write", str(path), "--rows", str(args.rows), "--seed",
                        str(args.seed), "--bad", str(args.bad), *(["--all-eirp"] if args.all_eirp else [])],
                       check=True)
        print(f"table: {args.rows:,} rows, {args.bad:,} faulty, {path.stat().st_size / 2**20:,.0f} MiB "
              f"(written in {time.perf_counter() - t0:.1f} s)")
        best: dict[str, float] = {}
        for k in range(args.repeats):
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                                 check=True)
            whole = time.perf_counter() - t0
            out = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"run {k + 1}: whole process {whole:.2f} s, read_sites {out['seconds']:.2f} s, peak RSS "
                  f"{out['rss_peak_mib']:,.0f} MiB ({out['rss_before_mib']:,.0f} MiB after the imports); "
                  + (f"{out['rows']:,} rows" if "rows" in out else f"error of {out['error_chars']:,} characters: "
                     f"{out['error_start']}..."))
            for key, value in (("whole", whole), ("inproc", out["seconds"]), ("rss", out["rss_peak_mib"])):
                best[key] = min(best.get(key, value), value)
        print(f"best of {args.repeats}: whole process {best['whole']:.2f} s, read_sites {best['inproc']:.2f} s, "
              f"peak RSS {best['rss']:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
