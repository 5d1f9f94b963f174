"""Writes that survive interruption (issue 10): every output goes through a temporary name and is renamed
into place, the old manifest is removed first and the new one written last, and ``equity-metrics verify``
(and ``impact`` reading an ingest folder) tells a complete folder from an incomplete one.

Killed runs use the test hook ``EQUITY_METRICS_TEST_PAUSE_AFTER=K:MARKER`` (the process pauses after its
K-th file is in place); full disks and read-only folders are small tmpfs mounts made here (skipped, with
the reason, where mounting is not allowed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from equity_metrics._atomic import OutputError, atomic_write_bytes, begin_output, verify_output
from equity_metrics.cli import EXIT_INPUT, EXIT_OK, main
from equity_metrics.datasets import sample_path

SAMPLES = sample_path()
EVENTS = SAMPLES / "policeuk"


def _cli(*argv: str, env: dict | None = None) -> subprocess.Popen:
    code = "import sys; from equity_metrics.cli import main; sys.exit(main(sys.argv[1:]))"
    e = dict(os.environ, **(env or {}))
    return subprocess.Popen([sys.executable, "-c", code, *argv], env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _wait_for(marker: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.monotonic()
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before the pause point: {proc.stderr.read().decode()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("the pause point was never reached")
        time.sleep(0.05)


def _manifest_files(folder: Path) -> dict[str, str]:
    return {o["file"]: o["sha256"] for o in json.loads((folder / "manifest.json").read_text())["outputs"]}


# ----------------------------------------------------------------------------- units
def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    p = atomic_write_bytes(tmp_path / "a.txt", b"one")
    atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two" and sorted(x.name for x in tmp_path.iterdir()) == ["a.txt"]


def test_begin_output_removes_old_manifest_and_stale_temp(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / ".tmp-123-events.parquet").write_bytes(b"half")
    (tmp_path / "events.parquet").write_bytes(b"old")
    begin_output(tmp_path)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["events.parquet"]


def test_verify_reports_missing_changed_and_no_manifest(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["--quiet", "ingest", str(EVENTS), "--forces", "northshire", "--out", str(out)]) == EXIT_OK
    assert verify_output(out).complete
    assert main(["verify", str(out)]) == EXIT_OK and "complete" in capsys.readouterr().out
    (out / "rejects.csv").write_text("changed\n")
    v = verify_output(out)
    assert not v.complete and "rejects.csv does not match" in v.reasons[0]
    (out / "rejects.csv").unlink()
    assert "rejects.csv is missing" in verify_output(out).reasons[0]
    (out / "manifest.json").unlink()
    assert main(["verify", str(out)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "incomplete" in err and "no manifest.json" in err


# ----------------------------------------------------------------------------- killed runs
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_killed_ingest_never_leaves_old_manifest_beside_new_files(tmp_path, sig, k):
    """Before: new events.parquet beside the old manifest.json (looked complete). After: no manifest until the
    end; verify says incomplete and impact refuses the folder."""
    out = tmp_path / "out"
    assert main(["--quiet", "ingest", str(EVENTS), "--forces", "northshire", "--out", str(out)]) == EXIT_OK
    old = _manifest_files(out)
    marker = tmp_path / "paused"
    proc = _cli("--quiet", "ingest", str(EVENTS), "--out", str(out),
                env={"EQUITY_METRICS_TEST_PAUSE_AFTER": f"{k}:{marker}"})
    _wait_for(marker, proc)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert not (out / "manifest.json").exists()
    assert not list(out.glob(".tmp-*"))  # paused between files: no half-written file
    v = verify_output(out)
    assert not v.complete and "no manifest.json" in v.reasons[0]
    if k >= 1:  # the new events table is in place, and differs from the old run's
        from equity_metrics._manifest import sha256_file

        assert sha256_file(out / "events.parquet") != old["events.parquet"]
    assert main(["verify", str(out)]) == EXIT_INPUT
    # a command reading the folder refuses it (exit 3, one line, says how to check)
    rc = main(["impact", "--events", str(out / "events.parquet"), "--training", str(SAMPLES / "training.csv"),
               "--out", str(tmp_path / "imp")])
    assert rc == EXIT_INPUT


def test_failed_request_leaves_the_old_folder_complete(tmp_path, capsys):
    """A request the data cannot answer fails before any output is touched (the old run stays complete)."""
    out = tmp_path / "out"
    assert main(["--quiet", "ingest", str(EVENTS), "--forces", "northshire", "--out", str(out)]) == EXIT_OK
    assert main(["ingest", str(EVENTS), "--forces", "northshir", "--out", str(out)]) == 4
    assert verify_output(out).complete
    rep = tmp_path / "rep"
    assert main(["--quiet", "report", "--stops", str(EVENTS), "--population", str(SAMPLES / "population.csv"),
                 "--population-vintage", "synthetic", "--area", "eastmoor", "--out", str(rep)]) == EXIT_OK
    assert main(["report", "--stops", str(EVENTS), "--population", str(SAMPLES / "population.csv"),
                 "--population-vintage", "synthetic", "--area", "eastmoo", "--out", str(rep)]) == 4
    assert verify_output(rep).complete


def test_stale_temp_file_is_reported_and_cleaned(tmp_path):
    out = tmp_path / "out"
    assert main(["--quiet", "ingest", str(EVENTS), "--forces", "northshire", "--out", str(out)]) == EXIT_OK
    (out / ".tmp-999-events.parquet").write_bytes(b"half")
    v = verify_output(out)
    assert not v.complete and "temporary files" in v.reasons[0]
    assert main(["--quiet", "ingest", str(EVENTS), "--forces", "northshire", "--out", str(out)]) == EXIT_OK
    assert verify_output(out).complete and not list(out.glob(".tmp-*"))


def test_run_that_reached_the_manifest_is_complete(tmp_path):
    out = tmp_path / "out"
    marker = tmp_path / "paused"
    proc = _cli("--quiet", "ingest", str(EVENTS), "--out", str(out),
                env={"EQUITY_METRICS_TEST_PAUSE_AFTER": f"4:{marker}"})
    _wait_for(marker, proc)
    proc.kill()
    proc.wait(timeout=60)
    assert verify_output(out).complete


@pytest.mark.slow
@pytest.mark.parametrize("k", [0, 1, 5])
def test_killed_report_leaves_no_manifest(tmp_path, k):
    out = tmp_path / "rep"
    assert main(["--quiet", "demo", "--out", str(out)]) == EXIT_OK
    assert verify_output(out).complete
    marker = tmp_path / "paused"
    proc = _cli("--quiet", "demo", "--out", str(out), env={"EQUITY_METRICS_TEST_PAUSE_AFTER": f"{k}:{marker}"})
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not (out / "manifest.json").exists() and not verify_output(out).complete


# ----------------------------------------------------------------------------- full disk, read-only folder
@pytest.fixture
def tmpfs(tmp_path):
    """Mount a small tmpfs: ``tmpfs(size_kib, readonly=False) -> Path``; skipped where mounting is not allowed."""
    mounted: list[Path] = []

    def make(size_kib: int, readonly: bool = False) -> Path:
        d = tmp_path / f"fs{len(mounted)}"
        d.mkdir()
        opts = f"size={size_kib}k" + (",ro" if readonly else "")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(d)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): {r.stderr.strip()}")
        mounted.append(d)
        return d

    yield make
    for d in reversed(mounted):
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_full_disk_is_exit_3_with_no_manifest_and_no_temp(tmpfs, capsys):
    """Before: exit 1 'internal error (OSError ...)'. After: exit 3, one line saying the disk is full."""
    d = tmpfs(64)
    out = d / "out"
    assert main(["ingest", str(EVENTS), "--out", str(out)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "disk is full" in err and "internal error" not in err
    assert not (out / "manifest.json").exists() and not list(out.glob(".tmp-*"))


def test_disk_full_part_way_keeps_old_files_and_reports_incomplete(tmpfs, capsys):
    d = tmpfs(240)  # the old northshire run fits; the new all-forces events table does not fit beside it
    out = d / "out"
    assert main(["--quiet", "ingest", str(EVENTS), "--forces", "northshire", "--out", str(out)]) == EXIT_OK
    before = (out / "events.parquet").read_bytes()
    assert main(["ingest", str(EVENTS), "--out", str(out)]) == EXIT_INPUT
    assert "disk is full" in capsys.readouterr().err
    assert (out / "events.parquet").read_bytes() == before  # the old file was not half-overwritten
    assert not list(out.glob(".tmp-*")) and not verify_output(out).complete


def test_read_only_folder_is_exit_3(tmpfs, capsys):
    d = tmpfs(64, readonly=True)
    for cmd in (["ingest", str(EVENTS)], ["demo"]):
        assert main([*cmd, "--out", str(d / "out")]) == EXIT_INPUT
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "read-only" in err and "Traceback" not in err


def test_out_is_an_existing_file_is_exit_3(tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["ingest", str(EVENTS), "--out", str(f)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "internal error" not in err
    with pytest.raises(OutputError):
        begin_output(f)
