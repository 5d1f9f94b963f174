"""Importing a reader stays light: the package namespaces load their names on first use (PEP 562).

``import equity_metrics.io.policeuk`` must not drag in the measures' and models' scientific stack
(scipy, statsmodels), plotting (matplotlib) or the optional engines; the police.uk memory benchmark
counts that import. Each check runs in a fresh interpreter, since this test process has long since
imported everything.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ["scipy", "statsmodels", "matplotlib", "sklearn", "jax", "numpyro", "duckdb", "pyspark"]
LAZY_PACKAGES = ["equity_metrics", "equity_metrics.io"]


def _fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter; it must print one JSON object as its last line."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loaded(before: str) -> str:
    return before + "\nimport json, sys\nprint(json.dumps({'modules': sorted(sys.modules)}))"


def test_policeuk_reader_import_is_light():
    modules = set(_fresh(_loaded("import equity_metrics.io.policeuk"))["modules"])
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert not heavy, f"import equity_metrics.io.policeuk loads {heavy}"
    # layers go one way: a reader imports no measures, models, datasets or plots
    ours = {m for m in modules if m.startswith("equity_metrics.")}
    assert not {m for m in ours if m.startswith(("equity_metrics.measures", "equity_metrics.models",
                                                 "equity_metrics.datasets", "equity_metrics.plots"))}, sorted(ours)


def test_package_import_loads_only_the_errors():
    modules = set(_fresh(_loaded("import equity_metrics"))["modules"])
    assert not {"pandas", "numpy", "polars", "pyarrow", *HEAVY} & modules
    assert {m for m in modules if m.startswith("equity_metrics")} == {"equity_metrics", "equity_metrics.errors", "equity_metrics._lazy"}


def test_names_resolve_on_first_use_in_a_fresh_interpreter():
    got = _fresh(
        "import equity_metrics as em\n"
        "from equity_metrics import read_policeuk\n"
        "import json, types\n"
        "before = set(dir(em))\n"
        "names = [em.read_policeuk is read_policeuk, callable(em.disparity), callable(em.datasets.generate),\n"
        "         callable(em.models.staggered_did), callable(em.io.read_opp), em.Ledger.__name__ == 'Ledger']\n"
        "unresolved = [n for n in em.__all__ if getattr(em, n, None) is None]\n"
        "print(json.dumps({'names': names, 'unresolved': unresolved, 'all_in_dir': set(em.__all__) <= before,\n"
        "                  'version': em.__version__}))"
    )
    assert all(got["names"]), got
    assert got["unresolved"] == []
    assert got["all_in_dir"], "dir(equity_metrics) must list every public name before it is loaded"
    assert got["version"]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_public_name_resolves(name):
    pkg = importlib.import_module(name)
    assert set(pkg._LAZY) <= set(pkg.__all__), sorted(set(pkg._LAZY) - set(pkg.__all__))
    for n in pkg.__all__:
        assert getattr(pkg, n) is not None, n
    assert set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        pkg.not_a_name  # noqa: B018
    assert not hasattr(pkg, "annotations")


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_lazy_names_do_not_shadow_submodules(name):
    # a lazy attribute named like one of the package's own modules would be replaced by that module
    # as soon as anyone imported the module directly (``import equity_metrics.io.<name>``)
    pkg = importlib.import_module(name)
    submodules = {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    clashes = sorted(n for n, target in pkg._LAZY.items() if ":" in target and n in submodules)
    assert not clashes, f"{name}: lazy names {clashes} are also submodule names"


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_type_checking_imports_match_the_lazy_table(name):
    # the ``if _TYPE_CHECKING:`` block repeats the table as imports for type checkers and IDEs
    pkg = importlib.import_module(name)
    tree = ast.parse(Path(pkg.__file__).read_text(encoding="utf-8"))
    blocks = [n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "_TYPE_CHECKING"]
    assert len(blocks) == 1, f"{name}: expected one `if _TYPE_CHECKING:` block"
    static: dict[str, str] = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom), ast.dump(node)
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            static[alias.asname or alias.name] = f"{module}:{alias.name}" if node.module else f".{alias.name}"
    assert static == pkg._LAZY
