"""Faults that lose or corrupt files, on real small disks: a full tmpfs and a read-only one.

Every write is tried over a good earlier output: the write must fail with one
:class:`OutputWriteError` (one line ``Error: …`` from the CLI, exit 2) naming
the file, the cause and the fix, leave the earlier output byte for byte as it
was, and leave no temporary file or folder. The mounts need root (CI runs as
root); elsewhere these tests are skipped with the reason, and fail under ``$CI``.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from click.testing import CliRunner
from shapely.geometry import Point

from coverplan.cli import main
from coverplan.errors import OutputWriteError
from coverplan.io import read_raster, write_raster, write_vector
from coverplan.outfolder import MARKER
from coverplan.raster import Raster
from coverplan.testing import write_synthetic_scenario
from coverplan.writing import write_error
from tests.mounts import mount_tmpfs, remount_read_only, unmount

TRANSFORM = Affine(30.0, 0.0, 500_000.0, 0.0, -30.0, 2_400_000.0)
FILLER = "filler"

Mount = Callable[[int], Path]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Mount]:
    """``tmpfs(size_kib) -> folder``: a fresh tmpfs of that size, unmounted after the test."""
    mounted: list[Path] = []

    def mount(size_kib: int) -> Path:
        where = mount_tmpfs(tmp_path / f"disk{len(mounted)}", size_kib)
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        unmount(where)


def _fill(disk: Path, *, leave: int) -> None:
    """Fill ``disk`` until only ``leave`` bytes are free."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(disk / FILLER, "ab") as fh:
        fh.write(b"\0" * max(0, free - leave))
    st = os.statvfs(disk)
    assert st.f_bavail * st.f_frsize <= leave


def _read_only(disk: Path) -> None:
    remount_read_only(disk)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _noise(rows: int, cols: int, seed: int) -> Raster:
    """Random float32 cells: deflate cannot shrink them, so the file is as big as the array."""
    arr = np.random.default_rng(seed).random((rows, cols)).astype("float32")
    return Raster(arr, TRANSFORM, "EPSG:32648", None)


def _points(n: int, text: str = "Trường Tiểu học Điện Biên") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"facility_id": np.arange(n), "name": [f"{text} {i}" for i in range(n)]},
                            geometry=[Point(105.0 + i * 1e-4, 21.0) for i in range(n)], crs="EPSG:4326")


# --- one file at a time --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "leave"), [((60, 80), 4096), ((300, 300), 16384), ((700, 700), 65536)])
def test_raster_on_a_full_disk_fails_and_keeps_the_old_file(tmpfs: Mount, shape: tuple[int, int], leave: int) -> None:
    # (60, 80) with 4 kB free: GDAL reported nothing and a 4 kB file replaced the good one
    disk = tmpfs(4096)
    target = write_raster(_noise(*shape, seed=1), disk / "coverage.tif")
    good = target.read_bytes()
    _fill(disk, leave=leave)
    with pytest.raises(OutputWriteError) as info:
        write_raster(_noise(*shape, seed=2), target, overwrite=True)
    assert str(info.value).startswith(f"{target}: cannot write it: no space left on device; free some space")
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    assert target.read_bytes() == good
    assert _listing(disk) == ["coverage.tif", FILLER]
    np.testing.assert_array_equal(read_raster(target).array, _noise(*shape, seed=1).array)


@pytest.mark.parametrize("shape", [(60, 80), (300, 300), (700, 700)])
def test_a_raster_written_off_the_main_thread_onto_a_full_disk_prints_nothing(tmpfs: Mount,
                                                                               shape: tuple[int, int]) -> None:
    """The run's GeoTIFF writer thread, where stderr cannot be captured: the one error names the cause and the
    process's stderr holds no line of libtiff's (`_tiffWriteProc: No space left on device.`), in a process of
    its own (its file descriptor 2 is what is looked at)."""
    disk = tmpfs(1024)
    _fill(disk, leave=16384)
    code = f"""
import threading, numpy as np
from coverplan.io import write_raster
from coverplan.raster import Raster
from affine import Affine
from rasterio.crs import CRS
arr = np.random.default_rng(2).random({shape}).astype("float32")
r = Raster(arr, Affine(30, 0, 500000, 0, -30, 2400000), CRS.from_epsg(32648), np.nan)
said = []
def write():
    try:
        write_raster(r, {str(disk / "new.tif")!r})
    except OSError as exc:
        said.append(str(exc))
t = threading.Thread(target=write)
t.start()
t.join()
print(said[0] if said else "no error")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"{disk / 'new.tif'}: cannot write it: no space left on device"), res.stdout
    assert "_tiff" not in res.stderr and "No space left" not in res.stderr, res.stderr
    assert _listing(disk) == [FILLER]


def test_a_new_raster_on_a_full_disk_leaves_nothing(tmpfs: Mount) -> None:
    disk = tmpfs(1024)
    _fill(disk, leave=4096)
    with pytest.raises(OutputWriteError, match="no space left on device"):
        write_raster(_noise(60, 80, seed=1), disk / "new.tif")
    assert _listing(disk) == [FILLER]


def test_geopackage_on_a_full_disk_fails_and_keeps_the_old_file(tmpfs: Mount) -> None:
    disk = tmpfs(4096)
    target = write_vector(_points(50), disk / "facilities.gpkg")
    good = target.read_bytes()
    _fill(disk, leave=8192)
    with pytest.raises(OutputWriteError) as info:
        write_vector(_points(3000), target, overwrite=True)
    # SQLite said "no such table: gpkg_contents"; the cause comes from the disk
    assert str(info.value).startswith(f"{target}: cannot write it: no space left on device")
    assert target.read_bytes() == good
    assert _listing(disk) == ["facilities.gpkg", FILLER]
    assert len(gpd.read_file(target)) == 50


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_csv_and_geojson_on_a_full_disk_fail_and_keep_the_old_file(tmpfs: Mount, suffix: str) -> None:
    disk = tmpfs(4096)
    target = write_vector(_points(20), disk / f"table{suffix}")
    good = target.read_bytes()
    _fill(disk, leave=8192)
    with pytest.raises(OutputWriteError, match=r"cannot write it: no space left on device; free some space") as info:
        write_vector(_points(5000), target, overwrite=True)
    assert info.value.path == target
    assert target.read_bytes() == good
    assert _listing(disk) == [FILLER, f"table{suffix}"]


@pytest.mark.parametrize("name", ["coverage.tif", "facilities.gpkg", "facilities.csv"])
def test_every_writer_on_a_read_only_disk_fails_and_keeps_the_old_file(tmpfs: Mount, name: str) -> None:
    disk = tmpfs(4096)
    target = disk / name
    write = (lambda t, **kw: write_raster(_noise(40, 40, seed=1), t, **kw)) if name.endswith(".tif") else \
        (lambda t, **kw: write_vector(_points(10), t, **kw))
    write(target)
    good = target.read_bytes()
    _read_only(disk)
    with pytest.raises(OutputWriteError) as info:
        write(target, overwrite=True)
    assert str(info.value).startswith(f"{target}: cannot write it: read-only file system; choose an output location "
                                      "on a writable disk")
    assert info.value.errno == errno.EROFS
    assert target.read_bytes() == good
    assert _listing(disk) == [name]


_AS_USER_SCRIPT = """
import sys
import numpy as np
from affine import Affine
from coverplan.errors import OutputWriteError
from coverplan.io import write_raster, write_vector
from coverplan.raster import Raster
import geopandas as gpd
from shapely.geometry import Point

target = sys.argv[1]
try:
    if target.endswith("out"):
        from coverplan.outfolder import output_folder

        with output_folder(target):
            pass
    elif target.endswith(".tif"):
        write_raster(Raster(np.ones((20, 20), "float32"), Affine(30, 0, 5e5, 0, -30, 2.4e6), "EPSG:32648", None),
                     target, overwrite=True)
    else:
        write_vector(gpd.GeoDataFrame({"a": [1]}, geometry=[Point(105, 21)], crs=4326), target, overwrite=True)
except OutputWriteError as exc:
    print(exc)
    sys.exit(3)
"""


@pytest.mark.parametrize("name", ["coverage.tif", "facilities.csv", "private/out"])
def test_a_folder_you_may_not_write_to_is_permission_denied(tmp_path: Path, name: str) -> None:
    # a real permission fault: as root (who may write anywhere) the write runs as nobody, through setpriv;
    # private/out: an output folder inside a folder one may not even look into
    folder = Path(tempfile.mkdtemp(prefix="coverplan-perm-", dir="/tmp"))  # a folder nobody can reach
    try:
        target = folder / name
        if name == "private/out":
            target.parent.mkdir()
            os.chmod(target.parent, 0o700 if os.geteuid() == 0 else 0o000)
            name = "private"
        elif name.endswith(".tif"):
            write_raster(_noise(20, 20, seed=1), target)
        else:
            write_vector(_points(3), target)
        good = target.read_bytes() if target.is_file() else b""
        cmd = [sys.executable, "-c", _AS_USER_SCRIPT, str(target)]
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("setpriv (util-linux) is needed to write as an unprivileged user")
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
            os.chmod(folder, 0o755)
            if good:
                os.chmod(target, 0o644)
        else:
            os.chmod(folder, 0o555)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "HOME": str(folder)}
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/", env=env)
        assert res.returncode == 3, res.stdout + res.stderr
        assert res.stdout == (f"{target}: cannot write it: permission denied; choose an output location you can "
                              "write to, or fix its permissions (anything already there is unchanged)\n")
        assert _listing(folder) == [name]
        if good:
            assert target.read_bytes() == good
    finally:
        for d in (folder, folder / "private"):
            if d.exists():
                os.chmod(d, 0o755)
        shutil.rmtree(folder)


@pytest.mark.parametrize(("code", "words"), [(errno.EACCES, "permission denied; choose an output location you can "
                                              "write to"),
                                             (errno.EDQUOT, "disk quota exceeded"),
                                             (errno.ENOSPC, "no space left on device")])
def test_each_os_error_is_named_with_its_fix(tmp_path: Path, code: int, words: str) -> None:
    # the words for each errno (EACCES is also made for real above, EDQUOT needs quotas)
    err = write_error(tmp_path / "x.csv", OSError(code, os.strerror(code)))
    assert str(err).startswith(f"{tmp_path / 'x.csv'}: cannot write it: {words}")
    assert err.errno == code


# --- a whole run -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def test_run_onto_a_nearly_full_disk_is_one_error_and_keeps_the_old_folder(
        tmpfs: Mount, synthetic: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)  # what -q does outside pytest, whose log handlers keep basicConfig from it
    disk = tmpfs(4096)
    out = disk / "out"
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out)])
    assert res.exit_code == 0, res.output
    good = _snapshot(out)
    assert MARKER in good
    _fill(disk, leave=256 * 1024)  # room for the rasters and the first tables, not for everything
    capfd.readouterr()
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out), "--overwrite"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"Error: {out}/") and ": cannot write it: no space left on device; free some space" \
        in lines[0], lines[0]
    assert "(anything already there is unchanged)" in lines[0]
    assert capfd.readouterr().err == ""  # nothing else on the terminal: not even what libtiff prints itself
    assert _snapshot(out) == good
    assert _listing(disk) == [FILLER, "out"]  # no partial folder, no lock file


def test_run_onto_a_read_only_disk_fails_before_the_work(tmpfs: Mount, synthetic: Path) -> None:
    disk = tmpfs(4096)
    out = disk / "out"
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out)])
    assert res.exit_code == 0, res.output
    good = _snapshot(out)
    _read_only(disk)
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out), "--overwrite"])
    assert res.exit_code == 2
    assert res.stderr == f"Error: {out}: cannot write it: read-only file system; choose an output location on a " \
                         "writable disk (anything already there is unchanged)\n"
    assert _snapshot(out) == good
    assert _listing(disk) == ["out"]


def test_deadzones_and_plan_commands_on_a_full_disk(tmpfs: Mount, synthetic: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)  # -q, as above
    disk = tmpfs(2048)
    _fill(disk, leave=64 * 1024)
    for cmd, extra in (("deadzones", []), ("plan", ["--must-serve", "health_station"])):
        out = disk / cmd
        res = CliRunner().invoke(main, ["-q", cmd, str(synthetic), "-o", str(out), *extra])
        assert res.exit_code == 2, res.output
        assert res.stderr.count("\n") == 1 and res.stderr.startswith(f"Error: {out}/"), res.stderr
        assert "no space left on device" in res.stderr
        assert _listing(disk) == [FILLER]
