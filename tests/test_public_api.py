"""The public namespaces hold the analysts' API and nothing else.

For the package and each public subpackage: ``__all__`` lists existing names once; every public name
(no leading underscore) that ``dir()`` shows is either in ``__all__`` or one of the package's own
submodules (Python binds a submodule to its package once it is imported); no names leak from
imports (``annotations`` from ``from __future__ import annotations``, ``np``, ``Sequence``, ...).
Private helpers and modules start with an underscore.
"""

from __future__ import annotations

import importlib
import types

import pytest

PACKAGES = [
    "equity_metrics",
    "equity_metrics.measures",
    "equity_metrics.models",
    "equity_metrics.models.threshold",
    "equity_metrics.models.honest",
    "equity_metrics.io",
    "equity_metrics.plots",
    "equity_metrics.report",
    "equity_metrics.datasets",
]


def own_submodule(pkg: types.ModuleType, name: str) -> bool:
    obj = getattr(pkg, name)
    return isinstance(obj, types.ModuleType) and obj.__name__ == f"{pkg.__name__}.{name}"


@pytest.mark.parametrize("name", PACKAGES)
def test_namespace_is_the_public_api(name):
    pkg = importlib.import_module(name)
    assert hasattr(pkg, "__all__"), f"{name} has no __all__"
    exported = list(pkg.__all__)
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats {sorted({n for n in exported if exported.count(n) > 1})}"
    assert not [n for n in exported if not hasattr(pkg, n)], f"{name}.__all__ names what {name} does not have"
    public = {n for n in dir(pkg) if not n.startswith("_")}
    leaked = sorted(n for n in public - set(exported) if not own_submodule(pkg, n))
    assert not leaked, f"{name} exposes {leaked}: add them to __all__ if they are for analysts, else make them private"
    assert "annotations" not in dir(pkg)
    # what is exported is the library's own: functions and classes defined in equity_metrics, its own modules
    for n in exported:
        obj = getattr(pkg, n)
        if isinstance(obj, types.ModuleType):
            assert obj.__name__.startswith("equity_metrics."), (name, n)
        elif isinstance(obj, (type, types.FunctionType)):
            assert obj.__module__.startswith("equity_metrics"), (name, n, obj.__module__)


def test_star_import_gives_the_analyst_api():
    ns: dict = {}
    exec("from equity_metrics import *", ns)
    names = set(ns) - {"__builtins__"}
    assert {"read_policeuk", "disparity", "staggered_did", "Ledger", "measures", "models", "datasets"} <= names
    assert not {"annotations", "np", "pd"} & names


def test_veil_of_darkness_is_public():
    import equity_metrics as em

    assert {"veil_of_darkness", "veil_of_darkness_by_area", "sun_times", "VeilResult", "VeilByAreaResult"} \
        <= set(em.__all__) & set(em.measures.__all__)
    assert {"veil_plot", "veil_by_area_plot"} <= set(importlib.import_module("equity_metrics.plots").__all__)
