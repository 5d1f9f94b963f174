"""Ethnicity harmonisation: raw labels from many sources to one set of groups.

UK sources are harmonised to the five broad groups of the 2011 and 2021 censuses
(``Asian``, ``Black``, ``Mixed``, ``White``, ``Other``) plus ``Not stated``, and to
a detailed group (the census 18/19 groups, e.g. ``"Black: Caribbean"``). US sources
use the Stanford Open Policing Project categories.

The mapping is done once per distinct raw value, so harmonising a million rows
costs as much as harmonising the few dozen labels they use.

Choices that change results are explicit arguments and are recorded in the
reader's ledger: which field is used (self-defined by default, as the Home Office
does), whether to fall back to the officer-defined field when the self-defined
one is blank or not stated, and where ``Chinese`` goes in schemes that list it
separately (Asian, as in the 2011 and 2021 censuses, by default).
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

from ._options import check_option

__all__ = [
    "BROAD_GROUPS",
    "NOT_STATED",
    "US_GROUPS",
    "DETAILED_GROUPS",
    "harmonise_ethnicity",
    "classify_label",
    "EthnicityScheme",
]

NOT_STATED = "Not stated"
BROAD_GROUPS: tuple[str, ...] = ("Asian", "Black", "Mixed", "White", "Other", NOT_STATED)
US_GROUPS: tuple[str, ...] = (
    "Asian/Pacific Islander",
    "Black",
    "Hispanic",
    "White",
    "Other",
    NOT_STATED,
)

#: Detailed groups (2011 census 18 groups, plus "White: Roma" from 2021).
DETAILED_GROUPS: tuple[str, ...] = (
    "Asian: Bangladeshi",
    "Asian: Chinese",
    "Asian: Indian",
    "Asian: Pakistani",
    "Asian: Other",
    "Black: African",
    "Black: Caribbean",
    "Black: Other",
    "Mixed: White and Asian",
    "Mixed: White and Black African",
    "Mixed: White and Black Caribbean",
    "Mixed: Other",
    "White: British",
    "White: Irish",
    "White: Gypsy or Irish Traveller",
    "White: Roma",
    "White: Other",
    "Other: Arab",
    "Other: Any other",
    NOT_STATED,
    # broad-only labels (sources that give no detail)
    "Asian",
    "Black",
    "Mixed",
    "White",
    "Other",
)

EthnicityScheme = Literal["uk", "us"]

_NOT_STATED_WORDS = {
    "",
    "not stated",
    "unreported",
    "not reported",
    "unknown",
    "don t know",
    "dont know",
    "not recorded",
    "refused",
    "nan",
    "na",
    "n a",
    "none",
    "other ethnic group not stated",
    "not stated other",
}


def _norm(label: str) -> str:
    s = str(label).strip().lower()
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _classify_uk(label: str, chinese_as: str) -> tuple[str, str, bool]:
    """Return (broad, detailed, recognised) for one UK label."""
    n = _norm(label)
    if n in _NOT_STATED_WORDS or n.endswith(" not stated") or "not stated" in n:
        return NOT_STATED, NOT_STATED, True
    words = set(n.split())
    # broad keyword (the prefix before a detail)
    mixed = "mixed" in words or "multiple" in words
    if mixed:
        if n in {"mixed", "mixed or multiple ethnic groups", "mixed multiple ethnic groups", "mixed multiple ethnic group"}:
            return "Mixed", "Mixed", True
        if "caribbean" in words:
            return "Mixed", "Mixed: White and Black Caribbean", True
        if "african" in words:
            return "Mixed", "Mixed: White and Black African", True
        if "asian" in words and "white" in words:
            return "Mixed", "Mixed: White and Asian", True
        return "Mixed", "Mixed: Other", True
    if "chinese" in words:
        return chinese_as, "Asian: Chinese", True
    if "gypsy" in words or "traveller" in words:
        return "White", "White: Gypsy or Irish Traveller", True
    if "roma" in words:
        return "White", "White: Roma", True
    if "arab" in words:
        return "Other", "Other: Arab", True
    if "indian" in words and "american" not in words:
        return "Asian", "Asian: Indian", True
    if "pakistani" in words:
        return "Asian", "Asian: Pakistani", True
    if "bangladeshi" in words:
        return "Asian", "Asian: Bangladeshi", True
    if "english" in words or ("white" in words and "british" in words) or n == "british":
        return "White", "White: British", True
    if "irish" in words:
        return "White", "White: Irish", True
    black = "black" in words
    if black:
        if "caribbean" in words and "african" not in words:
            return "Black", "Black: Caribbean", True
        if "african" in words and "caribbean" not in words:
            return "Black", "Black: African", True
        if n.endswith("caribbean") and "other" not in words:
            return "Black", "Black: Caribbean", True
        if n.endswith(" african") and "other" not in words:
            return "Black", "Black: African", True
        if "other" in words or "any" in words:
            return "Black", "Black: Other", True
        return "Black", "Black", True
    if "asian" in words:
        if "other" in words or "any" in words:
            return "Asian", "Asian: Other", True
        return "Asian", "Asian", True
    if "white" in words:
        if "other" in words or "any" in words:
            return "White", "White: Other", True
        return "White", "White", True
    if n in {"other", "other ethnic group"}:
        return "Other", "Other", True
    if n in {"any other ethnic group", "other ethnic group any other ethnic group"} or (
        "other" in words and ("ethnic" in words or "group" in words)
    ):
        return "Other", "Other: Any other", True
    return NOT_STATED, NOT_STATED, False


_US_MAP = {
    "asian pacific islander": "Asian/Pacific Islander",
    "asian": "Asian/Pacific Islander",
    "pacific islander": "Asian/Pacific Islander",
    "native hawaiian or other pacific islander": "Asian/Pacific Islander",
    "black": "Black",
    "african american": "Black",
    "black or african american": "Black",
    "hispanic": "Hispanic",
    "latino": "Hispanic",
    "hispanic or latino": "Hispanic",
    "white hispanic": "Hispanic",
    "black hispanic": "Hispanic",
    "white": "White",
    "other": "Other",
    "native american alaskan native": "Other",
    "american indian or alaska native": "Other",
    "native american": "Other",
    "amer ind alaskan native": "Other",
    "amer indian alaskan native": "Other",
}


def _classify_us(label: str) -> tuple[str, str, bool]:
    n = _norm(label)
    if n in _NOT_STATED_WORDS:
        return NOT_STATED, NOT_STATED, True
    if n in _US_MAP:
        g = _US_MAP[n]
        return g, str(label).strip().title() if g == "Other" else g, True
    return NOT_STATED, NOT_STATED, False


def classify_label(label: str, *, scheme: EthnicityScheme = "uk", chinese_as: Literal["Asian", "Other"] = "Asian") -> tuple[str, str, bool]:
    """Classify one raw label.

    Returns
    -------
    tuple
        ``(broad_group, detailed_group, recognised)``. Unrecognised labels map to
        ``Not stated`` with ``recognised=False`` so readers can count them.

    Examples
    --------
    >>> classify_label("Black/African/Caribbean/Black British - Caribbean")
    ('Black', 'Black: Caribbean', True)
    >>> classify_label("Other ethnic group - Not stated")
    ('Not stated', 'Not stated', True)
    >>> classify_label("WHITE HISPANIC", scheme="us")
    ('Hispanic', 'Hispanic', True)
    """
    check_option("scheme", scheme, EthnicityScheme)
    check_option("chinese_as", chinese_as, Literal["Asian", "Other"])
    if scheme == "us":
        return _classify_us(label)
    return _classify_uk(label, chinese_as)


def harmonise_ethnicity(
    values: pd.Series,
    *,
    scheme: EthnicityScheme = "uk",
    chinese_as: Literal["Asian", "Other"] = "Asian",
) -> pd.DataFrame:
    """Harmonise a column of raw ethnicity labels.

    Parameters
    ----------
    values
        Raw labels (strings; blanks and NA mean not stated).
    scheme
        ``"uk"`` (census broad groups) or ``"us"`` (Stanford Open Policing categories).
    chinese_as
        Broad group for ``Chinese`` (``"Asian"`` as in the 2011/2021 censuses, or
        ``"Other"`` as in the 2001 census).

    Returns
    -------
    pandas.DataFrame
        Columns ``group`` and ``detailed`` (categorical), ``blank`` (bool: the raw
        value was empty) and ``recognised`` (bool), aligned with ``values``.

    Examples
    --------
    >>> import pandas as pd
    >>> harmonise_ethnicity(pd.Series(["White - Irish", "", "Black"]))["group"].tolist()
    ['White', 'Not stated', 'Black']
    """
    raw = values.astype("string").fillna("").str.strip()
    codes, uniques = pd.factorize(raw, sort=False)
    table = [classify_label(u, scheme=scheme, chinese_as=chinese_as) for u in uniques]
    groups_order = US_GROUPS if scheme == "us" else BROAD_GROUPS
    broad = np.array([t[0] for t in table] + [NOT_STATED], dtype=object)
    detailed = np.array([t[1] for t in table] + [NOT_STATED], dtype=object)
    recog = np.array([t[2] for t in table] + [True], dtype=bool)
    blank = np.array([u == "" for u in uniques] + [True], dtype=bool)
    idx = np.where(codes < 0, len(uniques), codes)
    det_cats = list(DETAILED_GROUPS) if scheme == "uk" else list(dict.fromkeys(list(US_GROUPS) + sorted(set(detailed))))
    det_cats += sorted(set(detailed) - set(det_cats))
    return pd.DataFrame(
        {
            "group": pd.Categorical(broad[idx], categories=list(groups_order)),
            "detailed": pd.Categorical(detailed[idx], categories=det_cats),
            "blank": blank[idx],
            "recognised": recog[idx],
        },
        index=values.index,
    )
