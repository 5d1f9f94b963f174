"""Invariant 5: the headline is consistent with the tables and with the raw recount.

* the headline sentence's ratio and interval equal the headline table's row (to the sentence's
  rounding) and the ratio recomputed from raw counts and census populations;
* the "up / down from X" comparison value equals the raw ratio of the comparison period;
* every group whose change is called statistically clear is in a published change table,
  with an interval excluding 1, and its "from A to B" values equal the raw ratios;
* the ethnicity-not-stated share is stated next to the headline and equals the raw share of
  searches of people in the headline period with ethnicity not stated;
* the denominator's vintage ("2011 census") is named in the headline;
* a residential benchmark that is not meaningful (a group searched more than 900 times per
  1,000 residents: City of London) is flagged in the table and said in the headline.
"""

from __future__ import annotations

import re

import pytest

from . import _raw
from ._expect import headline_months
from ._published import months_of_label
from .conftest import FORCES
from .test_acceptance_periods import _twelve_to

pytestmark = [pytest.mark.shared]

SENT = re.compile(r"(\w+) people were searched at ([\d.]+) times the rate of (\w+) people \((\d+)% CI ([\d.]+) to "
                  r"([\d.]+)\)")
OTHER = re.compile(r"(\w+) people \((up|down) about (\d+)%, from ([\d.]+) to ([\d.]+); (\d+)% CI of the change "
                   r"([\d.]+) to ([\d.]+)\)")
HEAD_CHANGE = re.compile(r"the (\w+)/(\w+) ratio (fell|rose) by about (\d+)%, from ([\d.]+) to ([\d.]+) \(ratio of the "
                         r"two ratios ([\d.]+), (\d+)% CI ([\d.]+) to ([\d.]+)")


def raw_ratio(fr, pop, months, g, ref="White") -> float:
    c = fr.count_by_group(months)
    return (c[g] / pop[g]) / (c[ref] / pop[ref])


def _base_months(text: str) -> list[str] | None:
    m = re.search(r"Compared with the 12 months to (\w+) (\d{4})", text)
    if m:
        return _twelve_to(m.group(1), int(m.group(2)))
    m = re.search(r"Compared with .*?financial year (\d{4}/\d{2})", text)
    return months_of_label(m.group(1)) if m else None


def _headline_row(pub, g):
    return next(r for r in pub.tables["headline"] if r["group"] == g)


@pytest.mark.parametrize("force", FORCES)
def test_headline_sentence_equals_table_and_raw(force, built, raw, census):
    pub = built(force)
    fr, pop = raw[force], census[_raw.CENSUS_NAME[force]]
    head = pub.headline_text
    m = SENT.search(head)
    if not m:
        few = re.search(r"too few searches of (\w+) people", head)
        assert few, f"{force}: no headline ratio sentence in section 1: {head[:300]}"
        row = _headline_row(pub, few.group(1))
        assert not isinstance(row["ratio"], float), \
            f"{force}: the headline says too few {few.group(1)} searches but the table publishes ratio {row['ratio']}"
        return
    g, r, ref, _lvl, lo, hi = m.groups()
    row = _headline_row(pub, g)
    dp = 1 if float(row["ratio"]) >= 1 else 2
    bad = []
    for name, said, table in (("ratio", r, row["ratio"]), ("ci_low", lo, row["ci_low"]), ("ci_high", hi, row["ci_high"])):
        d = 2 if name == "ratio" and dp == 2 else 1
        if abs(float(said) - float(table)) > 0.5 * 10 ** -d + 1e-4:
            bad.append(f"{name}: sentence {said}, headline table {table}")
    want = raw_ratio(fr, pop, headline_months(pub), g, ref)
    if abs(float(r) - want) > 0.5 * 10 ** -dp + 1e-4:
        bad.append(f"ratio: sentence {r}, raw {want:.4f}")
    b = re.search(r"(?:(up|down) from|it was) ([\d.]+) (?:in|before)", head)
    base = _base_months(head)
    if b and base:
        bw = raw_ratio(fr, pop, base, g, ref)
        if abs(float(b.group(2)) - bw) > 0.05 + 1e-4:
            bad.append(f"comparison: 'from {b.group(2)}', raw ratio {bw:.4f} in {base[0]}..{base[-1]}")
        if b.group(1) and (b.group(1) == "down") != (want < bw):
            bad.append(f"comparison says {b.group(1)} but raw {bw:.3f} -> {want:.3f}")
    assert not bad, f"{force}:\n" + "\n".join(bad)


@pytest.mark.parametrize("force", FORCES)
def test_clear_changes_are_in_the_change_table(force, built, raw, census):
    pub = built(force)
    fr, pop = raw[force], census[_raw.CENSUS_NAME[force]]
    head = pub.headline_text
    base = _base_months(head)
    crow = [r for n in pub.tables if "change" in n for r in pub.tables[n]]
    if base is None and crow and crow[0].get("base_period"):
        base = months_of_label(crow[0]["base_period"])
    if base is None:
        pytest.skip(f"{force}: the report compares with no earlier period")  # e.g. no complete earlier year
    now = headline_months(pub)
    called: dict[str, tuple[float, float, float, float]] = {}
    bad = []
    hm = HEAD_CHANGE.search(head)
    if hm:
        seg = head[hm.start():]
        seg = re.split(r"Other groups whose|No other group", seg)[0]
        if "a statistically clear change" in seg and "not show a statistically clear change" not in seg:
            called[hm.group(1)] = (float(hm.group(5)), float(hm.group(6)), float(hm.group(9)), float(hm.group(10)))
    tail = re.search(r"changed clearly over the same two periods:(.*?)(?:Changes are tested|$)", head)
    if tail:
        for om in OTHER.finditer(tail.group(1)):
            called[om.group(1)] = (float(om.group(4)), float(om.group(5)), float(om.group(7)), float(om.group(8)))
    for g, (a, b, lo, hi) in called.items():
        ra, rb = raw_ratio(fr, pop, base, g), raw_ratio(fr, pop, now, g)
        if abs(a - ra) > 0.0051 or abs(b - rb) > 0.0051:
            bad.append(f"{g}: text 'from {a} to {b}', raw {ra:.4f} -> {rb:.4f}")
        if lo <= 1 <= hi:
            bad.append(f"{g}: called clear but its interval {lo} to {hi} includes 1")
    tabs = [n for n in pub.tables if "change" in n]
    if called and not tabs:
        bad.append(f"changes called clear for {sorted(called)} but no change table was published "
                   f"(tables: {sorted(pub.tables)})")
    rows = [r for n in tabs for r in pub.tables[n]]
    for g in called:
        hit = [r for r in rows if r.get("group") == g]
        if tabs and not hit:
            bad.append(f"{g}: change called clear but not in {tabs}")
            continue
        for r in hit:
            lo, hi = r.get("ci_low"), r.get("ci_high")
            if isinstance(lo, float) and isinstance(hi, float) and lo <= 1 <= hi:
                bad.append(f"{g}: change table interval {lo} to {hi} includes 1 but the text calls it clear")
            if "clear" in r and str(r["clear"]) != "True":
                bad.append(f"{g}: called clear in the text, clear={r['clear']!r} in the change table")
    for r in rows:
        g = r.get("group")
        if str(r.get("clear")) == "True" and g not in called:
            bad.append(f"{g}: clear in the change table but not called clear in the headline")
        if g in pop and isinstance(r.get("change_ratio"), float):
            ra, rb = raw_ratio(fr, pop, base, g), raw_ratio(fr, pop, now, g)
            for col, want in (("base_ratio", ra), ("ratio", rb), ("change_ratio", rb / ra)):
                if isinstance(r.get(col), float) and abs(r[col] - want) > 5.01e-5 + 1e-6 * abs(want):
                    bad.append(f"{g}: change table {col} {r[col]}, raw {want:.4f}")
    assert not bad, f"{force}:\n" + "\n".join(bad)


@pytest.mark.parametrize("force", FORCES)
def test_not_stated_share_next_to_headline(force, built, raw):
    pub = built(force)
    c = raw[force].count_by_group(headline_months(pub))
    share = c[_raw.NOT_STATED] / sum(c.values())
    row = pub.tables["headline"][0]
    assert abs(float(row["not_stated_share"]) - share) <= 5.01e-5, \
        f"{force}: headline.csv not_stated_share {row['not_stated_share']}, raw {share:.4f}"
    head = pub.headline_text
    found = []
    for m in re.finditer(r"not stated|not recorded|unknown ethnicity", head, re.I):
        ctx = head[max(0, m.start() - 200): m.end() + 200]
        found += [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)\s*%", ctx)]
    ok = any(abs(p - 100 * share) <= 0.5 + 1e-9 for p in found)
    assert ok, (f"{force}: the headline section does not state the ethnicity-not-stated share "
                f"({100 * share:.1f}% of searches of people in the period; percentages near 'not stated': {found})")


@pytest.mark.parametrize("force", FORCES)
def test_headline_names_the_census_vintage(force, built):
    head = built(force).headline_text
    assert "2011 census" in head, f"{force}: the headline does not name the 2011 census: {head[:300]}"


@pytest.mark.parametrize("force", FORCES)
def test_implausible_benchmark_flagged(force, built, raw, census):
    """docs/real-data-rules.md ("Benchmark plausibility"): a group rate above 200 per 1,000 residents per
    12 months flags every row of the area-period ``implausible_benchmark``; the issue: City of London's
    Black rate (> 900 per 1,000) must not be presented as a disparity between residents."""
    pub = built(force)
    pop = census[_raw.CENSUS_NAME[force]]
    months = headline_months(pub)
    c = raw[force].count_by_group(months)
    rates = {g: 1000 * c[g] / pop[g] for g in _raw.GROUPS}
    limit = 200 * len([m for m in months if m in raw[force].file_months]) / 12
    broken = [g for g, v in rates.items() if v > limit]
    bad = []
    for r in pub.tables["headline"]:
        flagged = "implausible_benchmark" in str(r.get("flags", "")).split(";")
        if broken and not flagged:
            bad.append(f"{r['group']}: not flagged implausible_benchmark although {broken} exceed {limit:.0f} per 1,000 "
                       f"({', '.join(f'{g} {rates[g]:.0f}' for g in broken)})")
        if not broken and flagged:
            bad.append(f"{r['group']}: flagged implausible_benchmark, but no group exceeds {limit:.0f} per 1,000")
    if broken and not re.search(r"not meaningful|implausib|misleading|commut|more searches than residents",
                                pub.headline_text, re.I):
        bad.append("the headline does not say the residential benchmark is not meaningful here")
    assert not bad, f"{force}:\n" + "\n".join(bad)


def test_city_of_london_black_rate_above_900(raw, census):
    """The independent path reproduces the README's City of London quirk."""
    c = raw["city-of-london"].count_by_group(_raw.fy_months("2020/21"))
    assert 1000 * c["Black"] / census["City of London"]["Black"] > 900


@pytest.mark.parametrize("force", FORCES)
def test_html_headline_table_equals_csv(force, built):
    """The headline table a reader sees in the HTML shows the same counts (or [c]) as headline.csv."""
    pub = built(force)
    head = pub.headline_text
    bad = []
    for r in pub.tables["headline"]:
        g, ev, pop = r["group"], r["events"], r["population"]
        shown = "[c]" if not isinstance(ev, float) else f"{ev:,.0f}"
        cell = f"{g} {shown} {pop:,.0f}" if isinstance(pop, float) else f"{g} {shown}"
        if cell not in head:
            bad.append(f"'{cell}' not in the HTML headline table")
    assert not bad, f"{force}:\n" + "\n".join(bad)


@pytest.mark.parametrize("force", FORCES)
def test_mostly_not_stated_flagged(force, built, raw):
    """docs/real-data-rules.md ("Mostly not stated"): more than 50% of the period's searches of people with no
    stated ethnicity flags every headline row ``mostly_not_stated`` and the headline says the ratio cannot be
    read as disproportionality (North Yorkshire 2020/21: 95%); 50% or less: no such flag."""
    pub = built(force)
    c = raw[force].count_by_group(headline_months(pub))
    share = c[_raw.NOT_STATED] / sum(c.values())
    bad = []
    for r in pub.tables["headline"]:
        flagged = "mostly_not_stated" in str(r.get("flags", "")).split(";")
        if (share > 0.5) != flagged:
            bad.append(f"{r['group']}: mostly_not_stated flag {flagged}, raw not-stated share {share:.1%}")
    if share > 0.5 and not re.search(r"cannot be relied on|should not be read|not .*measure of disproportionality",
                                     pub.headline_text):
        bad.append("the headline does not warn that the ethnic breakdown cannot be relied on")
    assert not bad, f"{force}:\n" + "\n".join(bad)


def test_north_yorkshire_self_defined_mostly_blank(raw):
    """The independent path reproduces the README's quirk: North Yorkshire's self-defined ethnicity ~59% blank."""
    fr = raw["north-yorkshire"]
    share = sum(r.self_defined_blank for r in fr.rows) / len(fr.rows)
    assert 0.57 <= share <= 0.61, f"North Yorkshire self-defined ethnicity blank on {share:.1%} of rows"
