"""The bundled synthetic sample set: where it is, how to load it, how to regenerate it.

The samples live in one place, ``data/samples/`` at the root of a source checkout
(made by ``scripts/make_samples.py``, which calls :func:`make_samples`). They are
not installed with the package: from an installed copy, regenerate them with
``equity_metrics.datasets.make_samples(folder)`` and point the loaders at the
folder with the environment variable ``EQUITY_METRICS_SAMPLES`` (or pass
``folder=``). Generation takes a few seconds and is byte-identical every time.

Every loader reads the files through the library's own readers, so the samples
exercise exactly the code path of real data.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd

from ..errors import EquityMetricsError
from ..ledger import ReadResult
from ._truth import SyntheticTruth

__all__ = [
    "SAMPLES_ENV",
    "sample_path",
    "make_samples",
    "load_sample_stops",
    "load_sample_population",
    "load_sample_training",
    "load_sample_officers",
    "load_sample_officer_events",
    "load_sample_panel",
    "load_sample_truth",
]

#: Environment variable naming a folder of samples made by :func:`make_samples`.
SAMPLES_ENV = "EQUITY_METRICS_SAMPLES"
_MARKER = "truth.json"
_TOP_FILES = (
    "population.csv",
    "population_wide.csv",
    "officers.csv",
    "training.csv",
    "training_mapping.toml",
    "officer_events.csv",
    "officer_events_mapping.toml",
    "panel.csv",
    "truth.json",
    "README.md",
)


def _repo_samples() -> Path:
    # src/equity_metrics/datasets/samples.py -> parents[3] is the repository root
    return Path(__file__).resolve().parents[3] / "data" / "samples"


def sample_path(folder: str | os.PathLike | None = None) -> Path:
    """The folder holding the synthetic samples.

    Looks, in order, at ``folder``, the environment variable ``EQUITY_METRICS_SAMPLES``
    and ``data/samples`` of the source checkout.

    Raises
    ------
    EquityMetricsError
        No samples there; the message says how to regenerate them.
    """
    if folder is not None:
        p, how = Path(folder), "the folder given"
    elif os.environ.get(SAMPLES_ENV):
        p, how = Path(os.environ[SAMPLES_ENV]), f"${SAMPLES_ENV}"
    else:
        p, how = _repo_samples(), "data/samples of the source checkout"
    if not (p / _MARKER).is_file():
        raise EquityMetricsError(
            f"no synthetic samples in {str(p)!r} ({how}: {_MARKER} not found). The samples ship with a "
            "source checkout only; regenerate them with equity_metrics.datasets.make_samples(folder) "
            f"(or python scripts/make_samples.py) and set {SAMPLES_ENV}=folder or pass folder=..."
        )
    return p


def make_samples(folder: str | os.PathLike | None = None, *, seed: int | None = None) -> list[Path]:
    """Generate the sample set (the default :func:`~equity_metrics.datasets.generate`) into ``folder``.

    ``folder`` defaults to ``data/samples`` of the source checkout. Files of an
    earlier sample set there are replaced (and stale police.uk files removed); a
    non-empty folder that is not a sample folder is refused.

    Returns
    -------
    list of Path
        Every file written.
    """
    from .synthetic import DEFAULT_SEED, generate, write

    p = Path(folder) if folder is not None else _repo_samples()
    if p.exists() and any(p.iterdir()):
        if not (p / _MARKER).is_file():
            raise EquityMetricsError(
                f"refusing to write samples into {str(p)!r}: it is not empty and holds no {_MARKER} "
                "(not a sample folder). Choose an empty or new folder."
            )
        if (p / "policeuk").is_dir():
            shutil.rmtree(p / "policeuk")
        for name in _TOP_FILES:
            (p / name).unlink(missing_ok=True)
    sd = generate(seed=DEFAULT_SEED if seed is None else seed)
    return write(sd, p)


def load_sample_truth(folder: str | os.PathLike | None = None) -> SyntheticTruth:
    """The planted truth of the samples (:class:`~equity_metrics.datasets.SyntheticTruth`)."""
    return SyntheticTruth.from_json(sample_path(folder) / "truth.json")


def load_sample_stops(*, folder: str | os.PathLike | None = None, **kwargs) -> ReadResult:
    """The sample police.uk stop-and-search files, read by :func:`equity_metrics.io.policeuk.read_policeuk`.

    ``kwargs`` go to ``read_policeuk`` (``forces``, ``months``, ``ethnicity_field``,
    ``fallback``, ...). ``expected_months`` defaults to the whole sample window, so
    the planted coverage gap appears in ``ledger.months_missing``.
    """
    from ..io.policeuk import read_policeuk

    p = sample_path(folder)
    if "months" not in kwargs:
        t = load_sample_truth(p)
        kwargs.setdefault("expected_months", f"{t.months[0]}..{t.months[-1]}")
    return read_policeuk(p / "policeuk", **kwargs)


def load_sample_population(*, wide: bool = False, folder: str | os.PathLike | None = None, **kwargs) -> ReadResult:
    """The sample residents, read by :func:`equity_metrics.io.population.read_population`.

    ``wide=False`` reads ``population.csv`` (area x group x sex x age band, long);
    ``wide=True`` reads ``population_wide.csv`` (area x group). ``kwargs`` go to
    the reader.
    """
    from ..io.population import read_population

    p = sample_path(folder)
    kwargs.setdefault("vintage", "synthetic")
    kwargs.setdefault("area_type", "force")
    return read_population(p / ("population_wide.csv" if wide else "population.csv"), **kwargs)


def load_sample_training(*, folder: str | os.PathLike | None = None) -> ReadResult:
    """The sample training roster (trained officers only).

    Read by :func:`equity_metrics.io.training.read_training_roster` with
    ``training_mapping.toml``. Officers never trained are in :func:`load_sample_officers`.
    """
    from ..io.training import read_training_roster

    p = sample_path(folder)
    return read_training_roster(p / "training.csv", mapping=p / "training_mapping.toml")


def load_sample_officer_events(*, folder: str | os.PathLike | None = None) -> ReadResult:
    """The sample officer-level events (use of force and searches), read by ``read_mapped``."""
    from ..io.mapped import read_mapped

    p = sample_path(folder)
    return read_mapped(p / "officer_events.csv", mapping=p / "officer_events_mapping.toml")


def load_sample_officers(*, folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every sample officer: id, force, district, sex, appointed, resigned, cohort, status.

    Unlike the training roster this includes officers never trained (``cohort`` NaT).
    """
    df = pd.read_csv(sample_path(folder) / "officers.csv", dtype="str", keep_default_na=False)
    for c in ("appointed", "resigned"):
        df[c] = pd.to_datetime(df[c].replace("", None), format="%Y-%m-%d")
    df["cohort"] = pd.PeriodIndex(df["cohort"].replace("", None), freq="M")
    return df


def load_sample_panel(*, folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """The sample officer x month panel with observed counts and expected outcomes.

    Columns: ``officer_id``, ``force``, ``district``, ``month`` (period[M]),
    ``cohort`` (period[M], NaT if never trained), ``event_time`` (Int64, NA if never
    trained), ``treated`` (0/1), ``uof`` (use-of-force reports), ``uof_y0`` and
    ``uof_mean`` (expected reports without / with the planted effect),
    ``searches``, ``searches_black``, ``search_mean``, ``black_share_y0`` and
    ``black_share_mean``. Only full months in service are rows.
    """
    df = pd.read_csv(sample_path(folder) / "panel.csv", dtype="str", keep_default_na=False)
    df["month"] = pd.PeriodIndex(df["month"], freq="M")
    df["cohort"] = pd.PeriodIndex(df["cohort"].replace("", None), freq="M")
    df["event_time"] = pd.to_numeric(df["event_time"].replace("", None)).astype("Int64")
    for c in ("treated", "uof", "searches", "searches_black"):
        df[c] = df[c].astype("int64")
    for c in ("uof_y0", "uof_mean", "search_mean", "black_share_y0", "black_share_mean"):
        df[c] = df[c].astype("float64")
    return df
