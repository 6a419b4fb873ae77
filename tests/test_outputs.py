"""Outputs and processes: checked before the work, saved whole, locked, stopped cleanly."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import hourglass
from hourglass.cli import app
from hourglass.experiments import results, sweeps
from tests.helpers import ROOT, exits_2_saying, make_scenario

runner = CliRunner()
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
LONG_NAME = "x" * 250
SLOW_SWEEP = ["sweep", BASELINE, "--vary", "sales.sellers=1:6:1", "--reps", "2"]


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    """A scenario file that simulates in a blink."""
    path = tmp_path / "tiny.yaml"
    path.write_text(make_scenario(horizon_days=20.0).to_yaml(), "utf-8")
    return str(path)


def _no_work(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the work ran before the output was checked")


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["run", "{tiny}", "--out", "{tmp}/" + LONG_NAME], f"--out {{tmp}}/{LONG_NAME}: cannot"),
        (["run", "{tiny}", "--out", "{tiny}"], "is a file, not a folder"),
        (["optimize", "{tiny}", "--budget", "10", "-o", "{tmp}"], "-o {tmp}: is a folder"),
        (
            ["optimize", "{tiny}", "--budget", "10", "-o", "{tmp}/" + LONG_NAME],
            "cannot write: File name too long",
        ),
        (
            ["calibrate", "--deals", "{tiny}", "-o", "{tmp}/" + LONG_NAME],
            "cannot write: File name too long",
        ),
        (["calibrate", "--deals", "{tiny}", "-o", "{tmp}"], "-o {tmp}: is a folder"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_the_work(
    command, words, tiny, tmp_path, monkeypatch
):
    for work in ("replicate", "optimize", "calibrate"):
        monkeypatch.setattr(hourglass, work, _no_work)
    monkeypatch.setattr(hourglass.calibration, "read_deals", _no_work)
    args = [a.format(tiny=tiny, tmp=tmp_path) for a in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert words.format(tmp=tmp_path) in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="the superuser writes into read-only folders")
def test_a_read_only_out_folder_is_refused_before_the_work(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(hourglass, "replicate", _no_work)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    result = runner.invoke(
        app, ["sweep", tiny, "--vary", "horizon_days=10,20", "--out", str(locked)]
    )
    assert result.exit_code == 2
    assert f"--out {locked}: cannot write there: Permission denied" in result.stderr


def _disk_full(*_args: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_results_are_printed_when_they_cannot_be_saved(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(results, "write_parquet", _disk_full)
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", tiny, "--json", "--backend", "serial", "--out", str(out)])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["kpis"]["buyers"] > 0
    assert f"--out {out}: cannot save the results: No space left on device" in result.stderr
    assert list(tmp_path.iterdir()) == [Path(tiny)], "no half-written folder is left"


def test_a_sweep_table_that_cannot_be_saved_is_printed(tiny, tmp_path, monkeypatch):
    real = sweeps.write_parquet

    def full_at_the_end(frame: pd.DataFrame, target: Path) -> None:
        (_disk_full if target.name == "sweep.parquet" else real)(frame, target)

    monkeypatch.setattr(sweeps, "write_parquet", full_at_the_end)
    out = tmp_path / "sweep"
    args = [
        "sweep",
        tiny,
        "--vary",
        "horizon_days=10,20",
        "--reps",
        "2",
        "--backend",
        "serial",
        "--json",
    ]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2
    rows = json.loads(result.stdout)["rows"]
    assert {row["horizon_days"] for row in rows} == {10, 20}
    assert all(row["p50"] >= 0 for row in rows if row["kpi"] == "buyers")
    assert f"--out {out}: cannot save the sweep's table: No space left on device" in result.stderr


def _saved(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_run_out_replaces_an_earlier_run_only_when_told(tiny, tmp_path):
    out = tmp_path / "results"
    args = ["run", tiny, "--backend", "serial", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    tables = _saved(out)
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert f"--out {out}: the folder holds an earlier run; add --replace" in refused.stderr
    (out / "deals.parquet").write_bytes(b"a table of an earlier B2B run")
    assert runner.invoke(app, [*args, "--replace", "--seed", "5"]).exit_code == 0
    assert _saved(out) == tables, "no table of the earlier run is left"
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    (out / "notes.txt").write_text("mine")
    other = runner.invoke(app, [*args, "--replace"])
    assert other.exit_code == 2
    assert "the folder holds other files; choose a new or empty folder" in other.stderr
    assert (out / "notes.txt").read_text() == "mine"


def test_a_save_cut_short_leaves_the_earlier_run_whole(tmp_path, monkeypatch):
    scenario = make_scenario(horizon_days=20.0)
    first = hourglass.replicate(scenario, 2, seed=1, backend="serial")
    second = hourglass.replicate(scenario, 2, seed=2, backend="serial")
    out = tmp_path / "results"
    results.save_replications(first, out, "1")

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(results, "write_json", killed)  # the manifest is written last
    with pytest.raises(KeyboardInterrupt):
        results.save_replications(second, out, "1")
    kept = pd.read_parquet(out / "kpis.parquet").set_index("rep")
    pd.testing.assert_frame_equal(kept, first.kpis, check_names=False)
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1
    assert _saved(tmp_path) == ["results"]


@pytest.mark.parametrize(
    ("umask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)]
)
def test_saved_files_follow_the_umask(umask, file_mode, folder_mode, tmp_path):
    result = hourglass.replicate(make_scenario(horizon_days=10.0), 1, seed=1, backend="serial")
    previous = os.umask(umask)
    try:
        results.write_text("x", tmp_path / "note.txt")
        results.save_replications(result, tmp_path / "run", "1")
    finally:
        os.umask(previous)
    assert (tmp_path / "note.txt").stat().st_mode & 0o777 == file_mode
    assert (tmp_path / "run").stat().st_mode & 0o777 == folder_mode
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "run").iterdir()} == {file_mode}


def _children(pid: int) -> set[int]:
    """Live processes whose parent is `pid` (zombies count as gone)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _start(args: list[str]) -> subprocess.Popen:
    """The real command in its own process group, with Ctrl-C at its default."""
    return subprocess.Popen(
        [sys.executable, "-m", "hourglass.cli", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _run_with_workers() -> tuple[subprocess.Popen, list[int]]:
    """A baseline run on pool workers, once its workers have started; and their pids."""
    proc = _start(["run", BASELINE, "--reps", "40", "--backend", "processes"])
    assert _wait_for(lambda: _children(proc.pid), 30), "no workers started"
    time.sleep(1.0)
    return proc, _children(proc.pid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_end_with_their_killed_parent():
    proc, workers = _run_with_workers()
    try:
        proc.kill()
        proc.wait()
        assert _wait_for(lambda: not _alive(workers), 5), "workers outlived their parent"
    finally:
        proc.kill()
        for pid in _alive(_children(proc.pid)):
            os.kill(pid, signal.SIGKILL)


def test_a_second_sweep_into_a_busy_folder_is_refused(tiny, tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    with open(out / sweeps.LOCK_FILE, "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        exits_2_saying(
            ["sweep", tiny, "--vary", "horizon_days=10,20", "--out", str(out)],
            f"--out {out}: another sweep is writing to this folder",
        )
    assert _saved(out) == [sweeps.LOCK_FILE]


def _tamper_manifest(out: Path, _other: Path) -> None:
    (out / "manifest.json").write_text("[1, 2]")


def _folder_for_a_point(out: Path, _other: Path) -> None:
    point = out / "points" / "point-00001.parquet"
    point.unlink()
    point.mkdir()


def _truncate_a_point(out: Path, _other: Path) -> None:
    point = out / "points" / "point-00001.parquet"
    point.write_bytes(point.read_bytes()[:100])


def _point_of_another_sweep(out: Path, other: Path) -> None:
    name = "points/point-00001.parquet"
    shutil.copyfile(other / name, out / name)


def _point_copied_from_another(out: Path, _other: Path) -> None:
    shutil.copyfile(out / "points/point-00000.parquet", out / "points/point-00001.parquet")


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        (_tamper_manifest, "manifest.json: not a sweep's manifest (a JSON object is expected)"),
        (_folder_for_a_point, "point-00001.parquet: a folder where a point file should be"),
        (_truncate_a_point, "point-00001.parquet: damaged, it cannot be read; delete it"),
        (_point_of_another_sweep, "point-00001.parquet: saved by another sweep"),
        (_point_copied_from_another, "point-00001.parquet: holds another point of this sweep"),
    ],
)
def test_a_tampered_sweep_folder_is_not_resumed(tamper, words, tiny, tmp_path):
    args = ["sweep", tiny, "--vary", "horizon_days=10,20", "--reps", "2", "--backend", "serial"]
    out, other = tmp_path / "sweep", tmp_path / "other"
    assert runner.invoke(app, [*args, "--out", str(out)]).exit_code == 0
    other_args = [*args[:-4], "--reps", "3", "--backend", "serial", "--out", str(other)]
    assert runner.invoke(app, other_args).exit_code == 0
    tamper(out, other)
    exits_2_saying([*args, "--out", str(out), "--resume"], words)


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("tls://10.0.0.5:8786", "--scheduler tls://10.0.0.5:8786: tls:// schedulers are not"),
        ("ucx://10.0.0.5:8786", "ucx:// schedulers are not supported"),
        ("inproc://10.0.0.5/1/2", "inproc:// schedulers are not supported"),
        ("tcp://10.0.0.5:99999", "--scheduler tcp://10.0.0.5:99999: not a scheduler address"),
        ("10.0.0.5", "--scheduler 10.0.0.5: not a scheduler address; write it as tcp://"),
    ],
)
def test_an_unsupported_or_malformed_scheduler_is_refused(address, words):
    exits_2_saying(["run", "--backend", "dask", "--scheduler", address], words)


def _interrupt_once_saved(args: list[str], out: Path) -> subprocess.CompletedProcess:
    """Start the command, press Ctrl-C (the whole group) once a first point is saved."""
    proc = _start([*args, "--out", str(out)])
    try:
        assert _wait_for((out / "points" / "point-00000.parquet").exists, 90)
        workers = _children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert _wait_for(lambda: not _alive(workers), 5), "workers outlived the interrupt"
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def _said_interrupted(done: subprocess.CompletedProcess, out: Path) -> None:
    assert done.returncode == 130
    pattern = (
        rf"interrupted; ([1-5]) of 6 points saved in {re.escape(str(out))}; "
        "run the same command with --resume to continue\n"
    )
    assert re.fullmatch(pattern, done.stderr), done.stderr
    saved = len(list((out / "points").iterdir()))
    assert int(re.match(pattern, done.stderr)[1]) == saved


def test_ctrl_c_stops_a_sweep_with_one_line_saying_how_to_resume(tmp_path):
    out = tmp_path / "sweep"
    _said_interrupted(_interrupt_once_saved([*SLOW_SWEEP, "--backend", "processes"], out), out)


@pytest.mark.slow
def test_ctrl_c_stops_a_dask_sweep_without_tracebacks(tmp_path):
    out = tmp_path / "sweep"
    _said_interrupted(_interrupt_once_saved([*SLOW_SWEEP, "--backend", "dask"], out), out)


def test_ctrl_c_stops_a_run_with_one_word():
    proc, workers = _run_with_workers()
    try:
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert (proc.returncode, stdout, stderr) == (130, "", "interrupted\n")
    assert _wait_for(lambda: not _alive(workers), 5)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["optimize", "{mb}", "--budget", "22000", "-o", "{mb}"],
            "-o {mb}: the same file as {mb}; writing there would lose it",
        ),
        (
            ["export-crm", "{mb}", "-o", "{tmp}/same.csv", "--transactions", "{tmp}/same.csv"],
            "--transactions {tmp}/same.csv: the same file as -o {tmp}/same.csv",
        ),
        (
            ["calibrate", "--deals", "{deals}", "-o", "{tmp}/s.yaml", "--report", "{deals}"],
            "--report {deals}: the same file as --deals {deals}",
        ),
    ],
)
def test_an_output_that_is_an_input_is_refused(tmp_path, args, words):
    shutil.copy(ROOT / "scenarios" / "marketing_budgets.yaml", tmp_path / "mb.yaml")
    shutil.copy(ROOT / "tests" / "data" / "crm" / "hourglass.csv", tmp_path / "deals.csv")
    names = {"mb": tmp_path / "mb.yaml", "deals": tmp_path / "deals.csv", "tmp": tmp_path}
    before = (tmp_path / "mb.yaml").read_bytes(), (tmp_path / "deals.csv").read_bytes()
    exits_2_saying([a.format(**names) for a in args], words.format(**names))
    assert ((tmp_path / "mb.yaml").read_bytes(), (tmp_path / "deals.csv").read_bytes()) == before


@pytest.mark.parametrize(
    "args",
    [
        ["run", "scenarios/no_referrals.yaml", "--backend", "serial", "--out", "{long}"],
        ["export-crm", "scenarios/no_referrals.yaml", "-o", "{long}.csv"],
        ["calibrate", "--deals", "tests/data/crm/hourglass.csv", "-o", "{long}.yaml"],
    ],
)
def test_a_name_too_long_for_the_system_is_refused_before_the_work(tmp_path, args):
    long = str(tmp_path / ("a" * 300))
    exits_2_saying([a.format(long=long) for a in args], "File name too long")
