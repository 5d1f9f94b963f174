"""The synthetic generator and the bundled samples: determinism, format fidelity, planted truth.

Recovery checks use plain pandas / statsmodels on the files (not the library's
measures), with crude 95% intervals; where several groups are checked at once the
interval is Bonferroni-widened so the family as a whole is at 95%. The seed is
fixed, so these are deterministic checks that the sample files carry the truth
``truth.json`` claims.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from equity_metrics.datasets import (
    POLICEUK_HEADER,
    SyntheticTruth,
    generate,
    load_sample_officer_events,
    load_sample_officers,
    load_sample_panel,
    load_sample_population,
    load_sample_stops,
    load_sample_training,
    load_sample_truth,
    make_samples,
    sample_path,
    write,
)
from equity_metrics.errors import EquityMetricsError, OptionError
from equity_metrics.ethnicity import harmonise_ethnicity

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
Z95 = stats.norm.ppf(0.975)


def _bonferroni_z(k: int) -> float:
    return float(stats.norm.ppf(1 - 0.05 / (2 * k)))


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


needs_samples = pytest.mark.skipif(not (SAMPLES / "truth.json").is_file(), reason="data/samples absent: run scripts/make_samples.py")
needs_policeuk = pytest.mark.skipif(not _has("equity_metrics.io.policeuk"), reason="equity_metrics.io.policeuk not available")
needs_mapped = pytest.mark.skipif(not _has("equity_metrics.io.mapped"), reason="equity_metrics.io.mapped not available")
needs_training = pytest.mark.skipif(not _has("equity_metrics.io.training"), reason="equity_metrics.io.training not available")
needs_population = pytest.mark.skipif(not _has("equity_metrics.io.population"), reason="equity_metrics.io.population not available")


@pytest.fixture(scope="module")
def small():
    return generate(seed=11, months=("2019-11", "2020-06"), officers_per_area=12)


@pytest.fixture(scope="module")
def default_sd():
    return generate()


@pytest.fixture(scope="module")
def truth() -> SyntheticTruth:
    return SyntheticTruth.from_json(SAMPLES / "truth.json")


@pytest.fixture(scope="module")
def files() -> pd.DataFrame:
    """Every person-search row of the sample police.uk files, read with plain pandas."""
    parts = []
    for f in sorted((SAMPLES / "policeuk").glob("*/*-stop-and-search.csv")):
        d = pd.read_csv(f, dtype="str", keep_default_na=False)
        d["force"] = f.name[8:].removesuffix("-stop-and-search.csv")
        d["file_month"] = f.name[:7]
        parts.append(d)
    df = pd.concat(parts, ignore_index=True)
    df["group"] = harmonise_ethnicity(df["Self-defined ethnicity"])["group"].astype(str).to_numpy()
    return df


@pytest.fixture(scope="module")
def people(files) -> pd.DataFrame:
    return files[files["Type"] != "Vehicle search"]


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_data(small):
    again = generate(seed=11, months=("2019-11", "2020-06"), officers_per_area=12)
    for name in ("population", "population_wide", "stops", "officers", "training", "officer_events", "panel"):
        pd.testing.assert_frame_equal(getattr(small, name), getattr(again, name), obj=name)
    assert small.truth.to_dict() == again.truth.to_dict()
    other = generate(seed=12, months=("2019-11", "2020-06"), officers_per_area=12)
    assert not small.stops["Date"].equals(other.stops["Date"])


def test_write_is_byte_identical(small, tmp_path):
    a, b = write(small, tmp_path / "a"), write(small, tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@needs_samples
def test_samples_on_disk_match_the_generator(tmp_path):
    make_samples(tmp_path / "regen")
    assert _digests(tmp_path / "regen") == _digests(SAMPLES)


@needs_samples
def test_samples_are_small():
    sizes = {p: p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file()}
    assert sum(sizes.values()) < 3_000_000
    assert max(sizes.values()) < 1_000_000


def test_truth_json_round_trip(small, tmp_path):
    small.truth.to_json(tmp_path / "t.json")
    back = SyntheticTruth.from_json(tmp_path / "t.json")
    assert back.to_dict() == small.truth.to_dict()
    assert isinstance(next(iter(back.att_uof_by_event_time)), int)


def test_options_checked():
    with pytest.raises(OptionError):
        generate(areas=9)
    with pytest.raises(OptionError):
        generate(areas=["atlantis"])
    with pytest.raises(OptionError):
        generate(months=("2020-05", "2020-01"))
    with pytest.raises(OptionError):
        generate(cohorts=["2030-01"])
    with pytest.raises(OptionError):
        generate(never_treated_share=1.5)


# --------------------------------------------------------------------------- police.uk format


@needs_samples
def test_header_layout_gap_and_header_only(truth):
    files = sorted((SAMPLES / "policeuk").glob("*/*.csv"))
    for f in files:
        assert f.parent.name == f.name[:7]
        with open(f, encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == list(POLICEUK_HEADER)
    # a single missing month (southvale 2020-10) and a force whose files end early (eastmoor, last 2021-09)
    assert truth.missing_force_months == [["eastmoor", "2021-10"], ["eastmoor", "2021-11"], ["eastmoor", "2021-12"],
                                          ["southvale", "2020-10"]]
    assert truth.coverage["eastmoor"]["last_month"] == "2021-09" and truth.coverage["southvale"]["missing_months"] == ["2020-10"]
    for area, month in truth.missing_force_months:
        assert not (SAMPLES / "policeuk" / month / f"{month}-{area}-stop-and-search.csv").exists()
        assert (SAMPLES / "policeuk" / month).is_dir()  # other forces have that month
    (harea, hmonth), = truth.header_only_force_months
    hdr = SAMPLES / "policeuk" / hmonth / f"{hmonth}-{harea}-stop-and-search.csv"
    assert hdr.read_text(encoding="utf-8") == ",".join(POLICEUK_HEADER) + "\n"
    assert len(files) == len(truth.areas) * len(truth.months) - len(truth.missing_force_months)
    assert truth.months_with_searches == {"northshire": 36, "southvale": 35, "eastmoor": 32}


@needs_samples
def test_vocabularies_are_police_uk(files):
    assert set(files["Type"]) == {"Person search", "Person and Vehicle search", "Vehicle search"}
    assert set(files["Officer-defined ethnicity"]) == {"Asian", "Black", "Other", "White", ""}
    sd = set(files["Self-defined ethnicity"])
    assert {"Other ethnic group - Not stated", "", "White - English/Welsh/Scottish/Northern Irish/British",
            "Black/African/Caribbean/Black British - Caribbean"} <= sd
    assert all(harmonise_ethnicity(pd.Series(sorted(sd)))["recognised"])
    assert set(files["Outcome linked to object of search"]) == {"True", "False", ""}
    assert "Arrest" in set(files["Outcome"]) and "A no further action disposal" in set(files["Outcome"])
    assert "" in set(files["Outcome"])  # northshire leaves some outcomes blank
    assert set(files["Gender"]) <= {"Male", "Female", "Other", ""}
    assert set(files["Age range"]) <= {"under 10", "10-17", "18-24", "25-34", "over 34", ""}
    assert files["Date"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00").all()
    assert files["Date"].str.contains(r"\.\d{6}\+").any()  # one force writes fractional seconds
    veh = files[files["Type"] == "Vehicle search"]
    assert (veh["Self-defined ethnicity"] == "").all() and (veh["Gender"] == "").all()


@needs_samples
def test_bst_quirk_and_date_only_records(files):
    first = files.groupby(["force", "file_month"], sort=True).head(1)
    summer = first[first["file_month"].str[5:7].isin(["05", "06", "07", "08"])]
    prev_day = summer["Date"].str[:7] < summer["file_month"]
    assert prev_day.any(), "no summer file starts on the previous day"
    assert summer.loc[prev_day, "Date"].str[11:13].eq("23").all()
    # every row's local month is its file month
    local = pd.to_datetime(files["Date"], format="ISO8601", utc=True).dt.tz_convert("Europe/London")
    assert (local.dt.strftime("%Y-%m") == files["file_month"]).all()
    # date-only records at local midnight: 23:00:00 UTC in summer, 00:00:00 UTC in winter
    midnight = (local.dt.hour == 0) & (local.dt.minute == 0) & (local.dt.second == 0) & (local.dt.microsecond == 0)
    assert files.loc[midnight & files["file_month"].str[5:7].eq("07"), "Date"].str.endswith("T23:00:00+00:00").all()
    assert files.loc[midnight & files["file_month"].str[5:7].eq("01"), "Date"].str.endswith("T00:00:00+00:00").all()
    assert midnight.mean() == pytest.approx(0.04, abs=0.012)


@needs_samples
def test_exact_duplicate_rows_present(files):
    dup = files.duplicated(subset=list(POLICEUK_HEADER) + ["force", "file_month"])
    assert 0.005 < dup.mean() < 0.05


# --------------------------------------------------------------------------- planted truth


def _pop(group_by: list[str]) -> pd.Series:
    return pd.read_csv(SAMPLES / "population.csv").groupby(group_by)["population"].sum()


@needs_samples
def test_black_white_rate_ratio_recovered(people, truth):
    pop = _pop(["area", "group"])
    stated = people[people["group"] != "Not stated"]
    z_family = _bonferroni_z(len(truth.areas) * 3)
    for a in truth.areas:
        n = stated[stated["force"] == a]["group"].value_counts()
        for g in ("Black", "Asian", "Mixed", "Other"):
            rr = (n[g] / pop[a, g]) / (n["White"] / pop[a, "White"])
            se = np.sqrt(1 / n[g] + 1 / n["White"])
            z = Z95 if g == "Black" else z_family
            lo, hi = rr * np.exp(-z * se), rr * np.exp(z * se)
            assert lo <= truth.crude_ratio[a][g] <= hi, (a, g, rr, lo, hi)
    # and the crude ratio differs from the age-specific one (age structure matters)
    assert truth.crude_ratio["northshire"]["Black"] > truth.rate_ratio["Black"] * 1.15


@needs_samples
def test_age_sex_standardised_ratio_recovered(people, truth):
    """A Poisson model with age, sex and area recovers the planted age-specific rate ratios."""
    import statsmodels.api as sm

    d = people[(people["group"] != "Not stated") & people["Age range"].ne("") & people["Gender"].isin(["Male", "Female"])]
    counts = d.groupby(["force", "group", "Gender", "Age range"]).size().rename("n")
    pop = pd.read_csv(SAMPLES / "population.csv").set_index(["area", "group", "sex", "age_band"])["population"]
    pop.index.names = counts.index.names
    cells = pd.concat([pop.rename("pop"), counts], axis=1).fillna({"n": 0}).reset_index()
    months = pd.Series(truth.months_with_searches)
    cells["exposure"] = cells["pop"] * cells["force"].map(months)
    X = pd.get_dummies(cells[["force", "group", "Gender", "Age range"]], drop_first=False).astype(float)
    X = X.drop(columns=["force_northshire", "group_White", "Gender_Male", "Age range_25-34"])
    fit = sm.GLM(cells["n"], sm.add_constant(X), family=sm.families.Poisson(), offset=np.log(cells["exposure"])).fit()
    ci = fit.conf_int(alpha=0.05 / 4)
    for g in ("Asian", "Black", "Mixed", "Other"):
        lo, hi = np.exp(ci.loc[f"group_{g}"])
        assert lo <= truth.rate_ratio[g] <= hi, (g, lo, hi)
        assert truth.standardised_ratio["eastmoor"][g] == pytest.approx(truth.rate_ratio[g])


@needs_samples
def test_not_stated_share_recovered(people, truth):
    # 8% not stated (5% labelled, 3% blank) except southvale, whose self-defined field is blank on 15%
    assert truth.not_stated_share_by_area == {"northshire": 0.08, "southvale": 0.2, "eastmoor": 0.08}
    z = _bonferroni_z(len(truth.areas))
    for a in truth.areas:
        x = people[people["force"] == a]
        p = truth.not_stated_share_by_area[a]
        assert abs(x["group"].eq("Not stated").mean() - p) < z * np.sqrt(p * (1 - p) / len(x)), a
    label = people["Self-defined ethnicity"].eq("Other ethnic group - Not stated").mean()
    assert label == pytest.approx(truth.not_stated_label_share, abs=3 * np.sqrt(0.05 * 0.95 / len(people)))


def _home_office_find(x: pd.DataFrame) -> pd.Series:
    """The Home Office find from the raw fields: outcome other than NFA and linked; NA where unknown."""
    out, lk = x["Outcome"], x["Outcome linked to object of search"]
    nfa = out.eq("A no further action disposal")
    find = pd.Series(pd.NA, index=x.index, dtype="boolean")
    find[nfa] = False
    known = out.ne("") & ~nfa & lk.ne("")
    find[known] = lk[known].eq("True")
    return find


@needs_samples
def test_find_arrest_and_any_outcome_rates_recovered(people, truth, default_sd):
    """Home Office find rate (forces that record the linked field), arrest and any-outcome rates.

    The written fields carry the planted find exactly wherever a force records it, so the
    file-based find rate is the planted one on a subset: the large groups are checked from
    the files of the forces that record the field, every group on all planted searches.
    """
    assert truth.find_rate == truth.hit_rate and truth.find_rate_recorded == {
        "northshire": True, "southvale": False, "eastmoor": True}
    st = default_sd.stops
    st_find = _home_office_find(st)
    known = st_find.notna().to_numpy()
    assert (st_find[known].astype(bool).to_numpy() == st["hit"].to_numpy()[known]).all()
    person = ~st["vehicle_only"].to_numpy()
    rec = people[people["force"].map(truth.find_rate_recorded)]
    find = _home_office_find(rec)
    z = _bonferroni_z(5)
    for g in ("White", "Black", "Asian", "Mixed", "Other"):
        p = truth.find_rate[g]
        if g in ("White", "Black"):
            f = find[(rec["group"] == g).to_numpy()].dropna()
            assert abs(f.mean() - p) < Z95 * np.sqrt(p * (1 - p) / len(f)), (g, f.mean())
        h = st.loc[person & (st["group"] == g).to_numpy(), "hit"]
        assert abs(h.mean() - p) < z * np.sqrt(p * (1 - p) / len(h)), (g, h.mean())
        y = people[(people["group"] == g) & people["Outcome"].ne("")]
        for got, p in ((y["Outcome"].eq("Arrest").mean(), truth.arrest_rate[g]),
                       (y["Outcome"].ne("A no further action disposal").mean(), truth.any_outcome_rate[g])):
            assert abs(got - p) < z * np.sqrt(p * (1 - p) / len(y)), (g, got, p)
    # the outcome-test disparity: White searches find something more often than Black ones
    w = find[(rec["group"] == "White").to_numpy()].dropna().astype(float)
    b = find[(rec["group"] == "Black").to_numpy()].dropna().astype(float)
    assert w.mean() - b.mean() > 1.5 * np.sqrt(w.var() / len(w) + b.var() / len(b))


@needs_samples
def test_recording_profiles_in_the_files(people, truth):
    """Each force's linked field and outcome blanks look as its profile says (the real forces' quirks)."""
    assert {a: r["linked"] for a, r in truth.recording.items()} == {
        "northshire": "linked_on_nfa", "southvale": "sparse", "eastmoor": "home_office"}
    for a in truth.areas:
        x = people[people["force"] == a]
        nfa = x["Outcome"].eq("A no further action disposal")
        lk = x["Outcome linked to object of search"]
        other = x["Outcome"].ne("") & ~nfa
        cov = lk[other].ne("").mean()
        c = truth.linked_coverage[a]
        assert abs(cov - c) < 3 * np.sqrt(max(c * (1 - c), 0.01) / other.sum()), (a, cov, c)
        blank = x["Outcome"].eq("").mean()
        b = truth.outcome_blank_share[a]
        assert abs(blank - b) < 3 * np.sqrt(max(b * (1 - b), 0.001) / len(x)), (a, blank, b)
        assert (lk[x["Outcome"].eq("")] == "").all()  # a blank outcome has a blank linked field
        filled = lk[lk.ne("")]
        naive = truth.naive_linked_rate[a]["White"]
        if a == "northshire":  # like West Yorkshire: most NFA rows say "linked", so counting True alone inflates
            assert lk[nfa].eq("True").mean() == pytest.approx(0.8 * 0.95, abs=0.05)
            assert naive > 0.75 and filled[x["group"] == "White"].eq("True").mean() == pytest.approx(naive, abs=0.05)
        if a == "southvale":  # like Merseyside: NFA rows never filled, a third of the others
            assert (lk[nfa] == "").all() and cov < 0.5
        if a == "eastmoor":
            assert not lk[nfa].eq("True").any() and naive == truth.find_rate["White"]
    # coordinates blank for the whole of southvale, never in eastmoor
    assert (people.loc[people["force"] == "southvale", "Latitude"] == "").all()
    assert (people.loc[people["force"] == "eastmoor", "Latitude"] != "").all()


@needs_samples
def test_officer_defined_agreement(people, truth):
    both = people[(people["group"] != "Not stated") & (people["Officer-defined ethnicity"] != "")]
    for g in ("White", "Black", "Asian"):
        x = both[both["group"] == g]
        agree = x["Officer-defined ethnicity"].eq(g).mean()
        p = truth.officer_agreement[g]
        assert abs(agree - p) < _bonferroni_z(3) * np.sqrt(p * (1 - p) / len(x)) + 1e-9
    assert not both.loc[both["group"] == "Mixed", "Officer-defined ethnicity"].eq("Mixed").any()


# --------------------------------------------------------------------------- officers and training


@needs_samples
def test_truth_matches_panel_and_events(truth):
    panel = pd.read_csv(SAMPLES / "panel.csv", dtype={"cohort": "str"}, keep_default_na=False)
    tr = panel[panel["treated"] == 1]
    assert truth.att_uof == pytest.approx((tr["uof_mean"] - tr["uof_y0"]).mean(), rel=1e-8)
    assert truth.att_black_share == pytest.approx((tr["black_share_mean"] - tr["black_share_y0"]).mean(), rel=1e-8)
    by_e = (tr["uof_mean"] - tr["uof_y0"]).groupby(tr["event_time"].astype(int)).mean()
    assert by_e.to_dict() == pytest.approx(truth.att_uof_by_event_time, rel=1e-8)
    assert truth.att_uof_rate_ratio == pytest.approx(truth.uof_rate_ratio)
    assert truth.n_treated_officer_months == len(tr) and truth.n_officer_months == len(panel)
    ev = pd.read_csv(SAMPLES / "officer_events.csv", dtype="str")
    assert (ev["event_type"] == "use_of_force").sum() == panel["uof"].sum()
    assert (ev["event_type"] == "search").sum() == panel["searches"].sum()
    assert ((ev["event_type"] == "search") & (ev["subject_ethnicity"] == "Black")).sum() == panel["searches_black"].sum()
    officers = pd.read_csv(SAMPLES / "officers.csv", dtype="str", keep_default_na=False)
    training = pd.read_csv(SAMPLES / "training.csv", dtype="str", keep_default_na=False)
    assert set(training["officer_id"]) == set(officers.loc[officers["cohort"] != "", "officer_id"])
    assert (training["completed"].str[:7] == training["officer_id"].map(officers.set_index("officer_id")["cohort"])).all()
    assert len(truth.cohorts) == 5 and (officers["status"] == "never").sum() > 0
    assert officers["officer_id"].str.fullmatch(r"[NSE]\d{4}").all()


def _wmean(v, w, codes, k):
    return (np.bincount(codes, w * v, k) / np.maximum(np.bincount(codes, w, k), 1e-300))[codes]


def _poisson_twfe(y, d, unit, time, offset=None) -> tuple[float, float]:
    """Poisson MLE of ``y ~ exp(offset + unit effect + time effect + beta * d)``: (beta, se).

    Fixed effects are solved in closed form (alternating), the treatment coefficient
    by Newton steps with its information from ``d`` partialled out of both sets of
    effects (the same numbers as a dummy-variable GLM, without a 200-column design).
    """
    a, b = pd.factorize(unit)[0], pd.factorize(time)[0]
    ka, kb = a.max() + 1, b.max() + 1
    off = np.zeros(len(y)) if offset is None else offset
    beta, fb = 0.0, np.zeros(kb)
    for _ in range(100):
        for _ in range(50):
            fa = np.log(np.maximum(np.bincount(a, y, ka), 1e-300) / np.bincount(a, np.exp(off + d * beta + fb[b]), ka))
            fb = np.log(np.maximum(np.bincount(b, y, kb), 1e-300) / np.bincount(b, np.exp(off + d * beta + fa[a]), kb))
        mu = np.exp(off + d * beta + fa[a] + fb[b])
        x = d.astype(float).copy()
        for _ in range(500):
            x0 = x.copy()
            x -= _wmean(x, mu, a, ka)
            x -= _wmean(x, mu, b, kb)
            if np.max(np.abs(x - x0)) < 1e-11:
                break
        info = float(np.sum(mu * x * x))
        step = float(np.sum(x * (y - mu))) / info
        beta += step
        if abs(step) < 1e-10:
            break
    return beta, 1 / np.sqrt(info)


@needs_samples
def test_att_recovered_by_two_way_fixed_effects(truth):
    """Poisson with officer and month effects is the planted model: it recovers 0.8 and 0.75."""
    panel = pd.read_csv(SAMPLES / "panel.csv", dtype={"cohort": "str"}, keep_default_na=False)
    d = panel["treated"].to_numpy(float)
    beta, se = _poisson_twfe(panel["uof"].to_numpy(float), d, panel["officer_id"], panel["month"])
    lo, hi = np.exp(beta - Z95 * se), np.exp(beta + Z95 * se)
    assert lo <= truth.uof_rate_ratio <= hi and hi < 1
    s = (panel["searches"] > 0).to_numpy()
    p = panel[s]
    beta, se = _poisson_twfe(p["searches_black"].to_numpy(float), d[s], p["officer_id"], p["month"],
                             np.log(p["searches"].to_numpy(float)))
    lo, hi = np.exp(beta - Z95 * se), np.exp(beta + Z95 * se)
    assert lo <= truth.black_share_ratio <= hi and hi < 1


def test_never_treated_variant_and_ramp():
    sd = generate(seed=3, months=("2019-01", "2020-12"), officers_per_area=20, never_treated_share=0.0,
                  uof_ramp=(0.95, 0.9))
    assert "never" not in set(sd.officers["status"])
    assert sd.truth.uof_rate_ratio_by_event_time[0] == 0.95 and sd.truth.uof_rate_ratio_by_event_time[5] == 0.8
    tr = sd.panel[sd.panel["treated"] == 1]
    ratio = tr.groupby("event_time")["uof_mean"].sum() / tr.groupby("event_time")["uof_y0"].sum()
    assert ratio.loc[0] == pytest.approx(0.95, rel=1e-4) and ratio.loc[3] == pytest.approx(0.8, rel=1e-4)
    sd2 = generate(seed=3, months=("2019-01", "2020-12"), officers_per_area=20, never_treated_share=0.5)
    assert (sd2.officers["status"] == "never").mean() > 0.3


# --------------------------------------------------------------------------- loaders


@needs_samples
def test_sample_path_and_errors(tmp_path, monkeypatch):
    assert sample_path() == SAMPLES
    with pytest.raises(EquityMetricsError, match="make_samples"):
        sample_path(tmp_path)
    monkeypatch.setenv("EQUITY_METRICS_SAMPLES", str(tmp_path / "nowhere"))
    with pytest.raises(EquityMetricsError, match="EQUITY_METRICS_SAMPLES"):
        sample_path()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    with pytest.raises(EquityMetricsError, match="refusing"):
        make_samples(tmp_path / "other")
    assert (tmp_path / "other" / "keep.txt").exists()


@needs_samples
def test_load_sample_truth_and_panel(truth, default_sd):
    assert load_sample_truth().to_dict() == truth.to_dict()
    assert load_sample_truth().to_dict() == default_sd.truth.to_dict()
    panel = load_sample_panel()
    assert str(panel["month"].dtype) == "period[M]" and str(panel["cohort"].dtype) == "period[M]"
    assert panel["event_time"].isna().eq(panel["cohort"].isna()).all()
    officers = load_sample_officers()
    assert officers["cohort"].isna().sum() == sum(v for k, v in truth.officers["by_status"].items() if k != "trained")


@needs_samples
@needs_policeuk
def test_load_sample_stops(truth, files, default_sd):
    res = load_sample_stops()
    led = res.ledger
    assert led.balanced and led.rows_read == len(files) == led.rows_kept
    # the planted missing month and the months after eastmoor's files end (expected_months = the window)
    assert [list(x) for x in led.months_missing] == truth.missing_force_months
    d = res.data
    assert (d["month"] == d["file_month"]).all()
    assert int((~d["time_known"].astype(bool)).sum()) == int(default_sd.stops["date_only"].sum())
    assert int(d["duplicate"].sum()) == led.duplicates > 0
    nb = ((d["ethnicity"] == "Black") & ~d["vehicle_only"].astype(bool)).groupby(d["force"], observed=True).sum()
    assert nb.to_dict() == files[(files["group"] == "Black") & (files["Type"] != "Vehicle search")].groupby("force").size().to_dict()
    only = load_sample_stops(forces=["northshire"])
    assert set(only.data["force"].astype(str)) == {"northshire"}


@needs_samples
@needs_mapped
def test_load_sample_officer_events_and_training(truth):
    ev = load_sample_officer_events()
    assert ev.ledger.balanced and ev.ledger.rows_rejected == 0
    raw = pd.read_csv(SAMPLES / "officer_events.csv", dtype="str")
    assert len(ev.data) == len(raw)
    assert set(ev.data["event_type"].astype(str)) == {"use_of_force", "search"}
    assert str(ev.data["datetime"].dt.tz) == "Europe/London"
    assert (ev.data["datetime"].dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy() == raw["datetime"].to_numpy()).all()
    assert (ev.data["officer_id"].astype(str).to_numpy() == raw["officer_id"].to_numpy()).all()
    assert ev.data["arrest"].astype(bool).sum() == (raw["outcome"] == "Arrest").sum()
    from equity_metrics.io.mapped import read_mapped

    tr = read_mapped(SAMPLES / "training.csv", mapping=SAMPLES / "training_mapping.toml", kind="training")
    assert tr.ledger.balanced and len(tr.data) == truth.officers["by_status"]["trained"]


@needs_samples
@needs_training
def test_load_sample_training(truth):
    tr = load_sample_training()
    assert tr.ledger.balanced and tr.ledger.rows_rejected == 0
    assert len(tr.data) == truth.officers["by_status"]["trained"]
    assert set(tr.data["level"].astype(str)) == {"officer"}
    assert tr.data["completed"].dt.to_period("M").astype(str).value_counts().sort_index().to_dict() == truth.officers["cohort_sizes"]
    officers = load_sample_officers().set_index("officer_id")
    ap = officers.loc[tr.data["officer_id"].astype(str), "appointed"].to_numpy()
    assert (tr.data["appointed"].to_numpy() == ap).all() and (tr.data["completed"].to_numpy() > ap).all()


@needs_samples
@needs_population
def test_load_sample_population(truth):
    wide = load_sample_population(wide=True)
    tot = wide.data.groupby(["area", "group"], observed=True)["population"].sum()
    for a in truth.areas:
        for g, v in truth.population[a].items():
            assert tot[a, g] == v
    long = load_sample_population()
    assert long.data["population"].sum() == sum(sum(v.values()) for v in truth.population.values())
    assert set(long.data["sex"].astype(str)) == {"Male", "Female"}


@needs_samples
@needs_population
def test_load_sample_population_keeps_age_bands():
    long = load_sample_population()
    assert set(long.data["age_band"].astype(str)) == {"under 10", "10-17", "18-24", "25-34", "over 34"}


def test_generate_small_and_many_areas(tmp_path):
    sd = generate(seed=5, areas=5, months=("2020-01", "2020-04"), officers_per_area=3)
    assert sd.truth.areas == ["northshire", "southvale", "eastmoor", "westfold", "highcombe"]
    paths = write(sd, tmp_path)
    assert (tmp_path / "truth.json").is_file() and len(paths) > 10
    json.loads((tmp_path / "truth.json").read_text())


# --------------------------------------------------------------------------- recording profiles, through the reader


@pytest.fixture(scope="module")
def read_samples():
    import equity_metrics as em

    return em.read_policeuk(SAMPLES / "policeuk", expected_months="2019-01..2021-12")


@needs_samples
@needs_policeuk
def test_reader_linked_on_nfa_force_gives_no_find_on_nfa_rows(read_samples, truth):
    """(a) northshire marks most NFA rows linked (like West Yorkshire); the canonical hit is False on them."""
    d = read_samples.data
    x = d[d["force"].astype(str) == "northshire"]
    nfa = x["outcome"].astype(str).eq("A no further action disposal").to_numpy()
    linked_nfa = nfa & x["outcome_linked"].fillna(False).to_numpy(bool)
    assert linked_nfa.sum() > 500 and linked_nfa.sum() > 0.6 * nfa.sum()
    assert (x.loc[linked_nfa, "hit"] == False).all()  # noqa: E712 (boolean dtype: no NA)
    # a naive count of the linked field would give ~80% "finds"; the canonical hit gives the planted ~0.3
    white = x[(x["ethnicity"].astype(str) == "White") & ~x["vehicle_only"].astype(bool)]
    assert white["outcome_linked"].dropna().astype(bool).mean() > 0.7
    assert white["hit"].dropna().astype(bool).mean() == pytest.approx(truth.find_rate["White"], abs=0.06)
    # a blank outcome leaves the find unknown
    assert x.loc[x["outcome"].isna().to_numpy(), "hit"].isna().all() and x["outcome"].isna().sum() > 50


@needs_samples
@needs_policeuk
def test_reader_sparse_force_leaves_most_finds_unknown(read_samples, truth):
    """(b) southvale fills the linked field on ~35% of non-NFA rows: hit is NA on most of them, and
    its linked coverage is under the library's threshold, as truth.find_rate_recorded says."""
    from equity_metrics.outcome_codes import LINKED_COVERAGE_MIN, is_nfa, linked_coverage

    d = read_samples.data
    for a in truth.areas:
        x = d[d["force"].astype(str) == a]
        filled, elig = linked_coverage(x["outcome"], x["outcome_linked"])
        assert (filled / elig >= LINKED_COVERAGE_MIN) == truth.find_rate_recorded[a], (a, filled, elig)
        if a == "southvale":
            other = ~is_nfa(x["outcome"]) & x["outcome"].notna().to_numpy()
            assert x.loc[other, "hit"].isna().mean() > 0.5
            assert x.loc[is_nfa(x["outcome"]), "hit"].notna().all()  # NFA is a known non-find
            assert x["latitude"].isna().all()  # coordinates blank for the whole force


@needs_samples
@needs_policeuk
def test_reader_lists_the_planted_missing_months(read_samples, truth):
    """(c) the single missing month and the months after a force's files end are missing, not zero;
    the header-only month is a real zero, not missing."""
    led = read_samples.ledger
    assert [list(x) for x in led.months_missing] == truth.missing_force_months
    assert ("eastmoor", "2020-03") not in led.months_missing
    d = read_samples.data
    assert not ((d["force"].astype(str) == "eastmoor") & (d["month"].astype(str) >= "2021-10")).any()


def test_recording_does_not_change_what_happened():
    """Same seed, different recording profiles: the same searches (truth columns), recorded differently."""
    kw = dict(seed=4, areas=2, months=("2020-01", "2020-12"), officers_per_area=3)
    a = generate(**kw)
    # header-only months are true zeros (part of what happened), so b keeps a's; it publishes the months
    # a leaves out (southvale's missing month and its last three)
    b = generate(**kw, recording={"northshire": {"linked": "blank", "outcome_blank_share": 0.3},
                                  "southvale": {"linked": "home_office", "latlon_blank_share": 0.0, "missing_months": [],
                                                "last_month": "2020-12"}})
    assert len(b.stops) > len(a.stops)  # b publishes southvale's missing month
    cols = ["area", "month", "group", "sex", "age_band", "hit", "arrest", "Date", "Type", "Legislation"]
    key = b.stops["file"].isin(set(a.stops["file"]))
    pd.testing.assert_frame_equal(a.stops[cols].reset_index(drop=True), b.stops.loc[key, cols].reset_index(drop=True))
    nb = b.stops[b.stops["area"] == "northshire"]
    assert (nb["Outcome linked to object of search"] == "").all() and nb["Outcome"].eq("").mean() > 0.2
    assert b.truth.find_rate_recorded == {"northshire": False, "southvale": True}
    assert b.truth.missing_force_months == [] and a.truth.missing_force_months == [
        ["southvale", m] for m in ("2020-08", "2020-10", "2020-11", "2020-12")]


def test_recording_options_checked():
    with pytest.raises(OptionError, match="linked"):
        generate(areas=1, recording={"northshire": {"linked": "sometimes"}})
    with pytest.raises(OptionError, match="unknown key"):
        generate(areas=1, recording={"northshire": {"linkd": "blank"}})
    with pytest.raises(OptionError, match="not among"):
        generate(areas=1, recording={"eastmoor": {"linked": "blank"}})
    with pytest.raises(OptionError, match="outside"):
        generate(areas=1, months=("2020-01", "2020-06"), recording={"northshire": {"last_month": "2021-01"}})
    with pytest.raises(OptionError, match="share"):
        generate(areas=1, recording={"northshire": {"outcome_blank_share": 1.5}})


def test_default_profiles_of_the_other_areas():
    """westfold never fills the linked field (like the Metropolitan Police); highcombe leaves officer-defined
    ethnicity mostly blank (like Gwent). The truth says which forces allow a find rate."""
    sd = generate(seed=8, areas=5, months=("2020-01", "2020-12"), officers_per_area=2)
    t, st = sd.truth, sd.stops
    assert t.find_rate_recorded == {"northshire": True, "southvale": False, "eastmoor": True,
                                    "westfold": False, "highcombe": True}
    assert t.linked_coverage["westfold"] == 0.0 and t.naive_linked_rate["westfold"]["White"] is None
    w = st[st["area"] == "westfold"]
    assert (w["Outcome linked to object of search"] == "").all() and w["Outcome"].ne("").all()
    h = st[(st["area"] == "highcombe") & ~st["vehicle_only"]]
    assert h["Officer-defined ethnicity"].eq("").mean() == pytest.approx(0.9, abs=0.05)
    assert t.officer_defined_blank_share["highcombe"] == 0.9
    # positional coverage: a missing month in the second area, the third's files end three months early
    assert t.coverage["southvale"]["missing_months"] == ["2020-08"] and t.coverage["eastmoor"]["last_month"] == "2020-09"
    assert generate(seed=8, areas=2, months=("2020-01", "2020-12"), officers_per_area=2, gaps=False).truth.missing_force_months == []
