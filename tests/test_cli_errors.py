"""Issue 10, command line part: foreign exceptions become the documented exit codes and one-line messages.

Each test is the case reported, with the behaviour before the fix in its docstring.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from equity_metrics.cli import EXIT_INPUT, EXIT_OK, EXIT_REQUEST, EXIT_USAGE, main
from equity_metrics.datasets import sample_path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sample_path()
EVENTS = SAMPLES / "policeuk"

API_RECORD = {"type": "Person search", "datetime": "2021-05-31T23:30:00+00:00", "gender": "Female",
              "age_range": "25-34", "self_defined_ethnicity": "Asian/Asian British - Indian",
              "officer_defined_ethnicity": "Asian", "outcome": "Arrest", "location": None,
              "legislation": "Misuse of Drugs Act 1971 (section 23)", "object_of_search": "Controlled drugs"}


def _one_line(err: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err, err


def test_format_policeuk_api_reads(tmp_path, capsys):
    """Before: every call exited 1 (ImportError: read_policeuk_api is not in io.policeuk)."""
    src = tmp_path / "2021-05.json"
    src.write_text(json.dumps([API_RECORD, API_RECORD]))
    out = tmp_path / "o"
    assert main(["--quiet", "ingest", str(src), "--format", "policeuk-api", "--forces", "avon-and-somerset",
                 "--out", str(out)]) == EXIT_OK
    import pandas as pd

    df = pd.read_parquet(out / "events.parquet")
    assert len(df) == 2 and set(df["force"]) == {"avon-and-somerset"}
    assert main(["ingest", str(src), "--format", "policeuk-api", "--forces", "a", "b", "--out", str(out)]) == EXIT_REQUEST
    _one_line(capsys.readouterr().err)


def test_empty_out_is_a_bad_command_line(tmp_path, capsys):
    """Before: --out "" wrote into the current folder (ingest) or crashed. After: exit 2."""
    for cmd in (["ingest", str(EVENTS)], ["demo"], ["report", str(REPO / "reports" / "sample.toml")]):
        assert main([*cmd, "--out", ""]) == EXIT_USAGE
        err = capsys.readouterr().err
        _one_line(err)
        assert "--out" in err


def test_misspelled_force_is_exit_4_in_ingest_and_report(tmp_path, capsys):
    """Before: ingest exited 3 (ReadError) and report 4 for the same mistake. After: both 4."""
    assert main(["ingest", str(EVENTS), "--forces", "northshir", "--out", str(tmp_path / "i")]) == EXIT_REQUEST
    err = capsys.readouterr().err
    _one_line(err)
    assert "--forces" in err and "forces=" not in err and "northshire" in err
    assert main(["report", "--stops", str(EVENTS), "--population", str(SAMPLES / "population.csv"),
                 "--population-vintage", "synthetic", "--area", "northshir", "--out", str(tmp_path / "r")]) == EXIT_REQUEST
    _one_line(capsys.readouterr().err)


def test_messages_name_flags_not_keywords(tmp_path, capsys):
    """Before: 'Pass area_type='force''. After: 'Pass --area-type 'force''."""
    assert main(["disparity", str(EVENTS), "--population", str(SAMPLES / "population.csv"), "--vintage", "synthetic",
                 "--out", str(tmp_path / "d")]) == EXIT_INPUT
    err = capsys.readouterr().err
    _one_line(err)
    assert "--area-type 'force'" in err and "area_type=" not in err


def test_flagify_leaves_other_text_alone():
    from equity_metrics.cli import flagify

    assert flagify("x=1, forces=['a'], by=none", {"forces": None, "by": None}) == "x=1, --forces ['a'], --by none"


def _config(tmp_path: Path, extra: str = "") -> str:
    text = (REPO / "reports" / "sample.toml").read_text(encoding="utf-8")
    text = text.replace('"../data/', f'"{REPO}/data/').replace("output = ", "# output = ")
    return text + extra


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_config_with_bom_or_utf16_is_read(tmp_path, encoding, capsys):
    """Before: a UTF-8-BOM config exited 4 'not valid TOML', a UTF-16 one 1 'internal error'. After: both read."""
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(_config(tmp_path).encode(encoding))
    assert main(["--quiet", "report", str(cfg), "--out", str(tmp_path / "o")]) == EXIT_OK


def test_undecodable_config_is_exit_3(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b'title = "\xff\xfe\xfd"\n')
    assert main(["report", str(cfg), "--out", str(tmp_path / "o")]) == EXIT_INPUT
    err = capsys.readouterr().err
    _one_line(err)
    assert "UTF-8" in err


def test_config_output_may_not_leave_its_folder(tmp_path, capsys):
    """Before: a config's output = "../../x" wrote wherever it pointed. After: refused (4) unless asked for."""
    d = tmp_path / "cfgdir"
    d.mkdir()
    cfg = d / "c.toml"
    cfg.write_text(_config(tmp_path, '\noutput = "../escaped"\n').replace("# output = ", "# was: "), encoding="utf-8")
    # keys after a table header belong to it: put output at the top
    text = cfg.read_text(encoding="utf-8").replace('\noutput = "../escaped"\n', "\n")
    cfg.write_text('output = "../escaped"\n' + text, encoding="utf-8")
    assert main(["report", str(cfg)]) == EXIT_REQUEST
    err = capsys.readouterr().err
    _one_line(err)
    assert "--out" in err and "--allow-output-outside" in err
    assert not (tmp_path / "escaped").exists()
    assert main(["--quiet", "report", str(cfg), "--allow-output-outside"]) == EXIT_OK
    assert (tmp_path / "escaped" / "manifest.json").is_file()
    cfg.write_text('output = "inside/rep"\n' + text, encoding="utf-8")
    assert main(["--quiet", "report", str(cfg)]) == EXIT_OK
    assert (d / "inside" / "rep" / "report.html").is_file()


def test_non_utf8_folder_name_is_written(tmp_path):
    """Before: exit 1 (UnicodeEncodeError from Arrow and from print). After: written, printed escaped."""
    out = bytes(tmp_path) + b"/out\xff\xfe"
    code = "import sys; from equity_metrics.cli import main; sys.exit(main(sys.argv[1:]))"
    for cmd in ([b"ingest", bytes(EVENTS)],
                [b"disparity", bytes(EVENTS), b"--population", bytes(SAMPLES / "population.csv"), b"--vintage",
                 b"synthetic", b"--area-type", b"force", b"--table-format", b"parquet"]):
        r = subprocess.run([sys.executable.encode(), b"-c", code.encode(), *cmd, b"--out", out], capture_output=True)
        assert r.returncode == 0, r.stderr
        assert b"\\udcff" in r.stdout
        r = subprocess.run([sys.executable.encode(), b"-c", code.encode(), b"verify", out], capture_output=True)
        assert r.returncode == 0 and b"complete" in r.stdout


def test_non_utf8_input_folder_is_exit_3_naming_the_folder(tmp_path):
    """Before: exit 1 'internal error (UnicodeEncodeError ...)'. After: exit 3, says to rename the folder."""
    import shutil

    src = bytes(tmp_path) + b"/in\xff"
    shutil.copytree(bytes(EVENTS), src)
    code = "import sys; from equity_metrics.cli import main; sys.exit(main(sys.argv[1:]))"
    r = subprocess.run([sys.executable.encode(), b"-c", code.encode(), b"ingest", src, b"--out",
                        bytes(tmp_path / "o")], capture_output=True)
    assert r.returncode in (0, 3), r.stderr  # read (0) or refused with the reason (3); never a bug (1)
    if r.returncode == 3:
        assert r.stderr.count(b"\n") == 1 and b"rename" in r.stderr and b"in\\udcff" in r.stderr


def test_dollar_signs_in_data_labels_do_not_abort_figures():
    """Before: a label like '$\\bad$' raised ValueError (matplotlib mathtext) and the report exited 1."""
    from equity_metrics.report.figures import _fig, _forest, _legend_above, _save

    fig, ax = _fig(7, 3)
    _forest(ax, [r"A $\bad$ area", "B$x$"], [1.2, 0.8], [1.0, 0.5], [1.5, 1.1], xlabel=r"ratio $\nope$")
    ax.plot([1, 2], [1, 2], label=r"$\frac$ course")
    _legend_above(ax)
    svg = _save(fig, "t", "alt")
    assert r"A $\bad$ area" in svg and r"$\frac$ course" in svg  # drawn literally


def test_impact_prints_a_short_summary_and_verdict(tmp_path, capsys):
    """Before: 300 lines (the 175-row cell table and every aggregation). After: a few lines and a verdict."""
    s = SAMPLES
    argv = ["impact", "--events", str(s / "officer_events.csv"), "--mapping", str(s / "officer_events_mapping.toml"),
            "--training", str(s / "training.csv"), "--officers", str(s / "officers.csv"), "--treated-from",
            "completion", "--unbalanced", "drop", "--control", "not_yet_treated", "--out", str(tmp_path / "o")]
    assert main(argv) == EXIT_OK
    out = capsys.readouterr().out
    assert len(out.splitlines()) <= 15 and "Verdict:" in out and "95% CI" in out and "Pre-trend test" in out
    assert "175 group-time cells" in out
    assert len((tmp_path / "o" / "att_gt.csv").read_text().splitlines()) == 176
    assert main(["--quiet", *argv]) == EXIT_OK
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == ""


def test_cli_and_cli_commands_import_one_way():
    """Before: cli imported cli_commands and cli_commands imported cli (_read). After: one direction."""
    pkg = REPO / "src" / "equity_metrics" / "cli_commands"
    for f in pkg.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.level == 2 and node.module == "cli"), f"{f.name} imports equity_metrics.cli"
                assert node.module != "equity_metrics.cli", f.name
