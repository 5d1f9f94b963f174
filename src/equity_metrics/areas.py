"""Area names normalised across sources.

Police force areas are keyed by the police.uk slug (``"metropolitan"``,
``"avon-and-somerset"``, ``"city-of-london"``) because it is the one spelling that
never varies; :func:`force_name` gives the display name. Other sources spell the
same force differently ("Metropolitan Police", "Metropolitan", "London, City of",
"Devon & Cornwall"); :func:`normalise_force` maps them all to the slug.
Local authority names are normalised with :func:`normalise_area_name`
("London, City of" -> "City of London").
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["FORCES", "normalise_force", "normalise_forces", "force_name", "normalise_area_name", "is_known_force"]

#: police.uk slug -> display name, for the 43 territorial forces of England and
#: Wales, British Transport Police, and the two national aggregates.
FORCES: dict[str, str] = {
    "avon-and-somerset": "Avon and Somerset",
    "bedfordshire": "Bedfordshire",
    "btp": "British Transport Police",
    "cambridgeshire": "Cambridgeshire",
    "cheshire": "Cheshire",
    "city-of-london": "City of London",
    "cleveland": "Cleveland",
    "cumbria": "Cumbria",
    "derbyshire": "Derbyshire",
    "devon-and-cornwall": "Devon and Cornwall",
    "dorset": "Dorset",
    "durham": "Durham",
    "dyfed-powys": "Dyfed-Powys",
    "essex": "Essex",
    "gloucestershire": "Gloucestershire",
    "greater-manchester": "Greater Manchester",
    "gwent": "Gwent",
    "hampshire": "Hampshire",
    "hertfordshire": "Hertfordshire",
    "humberside": "Humberside",
    "kent": "Kent",
    "lancashire": "Lancashire",
    "leicestershire": "Leicestershire",
    "lincolnshire": "Lincolnshire",
    "merseyside": "Merseyside",
    "metropolitan": "Metropolitan Police",
    "norfolk": "Norfolk",
    "north-wales": "North Wales",
    "north-yorkshire": "North Yorkshire",
    "northamptonshire": "Northamptonshire",
    "northumbria": "Northumbria",
    "nottinghamshire": "Nottinghamshire",
    "south-wales": "South Wales",
    "south-yorkshire": "South Yorkshire",
    "staffordshire": "Staffordshire",
    "suffolk": "Suffolk",
    "surrey": "Surrey",
    "sussex": "Sussex",
    "thames-valley": "Thames Valley",
    "warwickshire": "Warwickshire",
    "west-mercia": "West Mercia",
    "west-midlands": "West Midlands",
    "west-yorkshire": "West Yorkshire",
    "wiltshire": "Wiltshire",
    "england-and-wales": "England and Wales",
    "england-and-wales-including-btp": "England and Wales (including BTP)",
}

_ALIASES: dict[str, str] = {
    "metropolitan police": "metropolitan",
    "metropolitan police service": "metropolitan",
    "met": "metropolitan",
    "met police": "metropolitan",
    "london city of": "city-of-london",
    "city of london police": "city-of-london",
    "london": "city-of-london",  # the gov.uk table's "London, City of" splits on its comma when unquoted
    "british transport police": "btp",
    "british transport": "btp",
    "total england and wales": "england-and-wales",
    "england and wales": "england-and-wales",
    "all excluding btp": "england-and-wales",
    "all including btp": "england-and-wales-including-btp",
    "avon somerset": "avon-and-somerset",
    "devon cornwall": "devon-and-cornwall",
    "dyfed powys": "dyfed-powys",
}

_SUFFIXES = (" police service", " constabulary", " police force", " police")


def _key(name: str) -> str:
    s = str(name).strip().lower().replace("&", " and ")
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    return re.sub(r"\s+", " ", s)


def normalise_force(name: object) -> str:
    """Return the police.uk slug for a force name in any common spelling.

    Unknown names are returned slugified (lower case, hyphens) so they still group
    consistently; check them with :func:`is_known_force`.

    Examples
    --------
    >>> normalise_force("Metropolitan Police")
    'metropolitan'
    >>> normalise_force("London, City of")
    'city-of-london'
    >>> normalise_force("Devon & Cornwall")
    'devon-and-cornwall'
    >>> normalise_force("metropolitan")
    'metropolitan'
    """
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return ""
    k = _key(str(name))
    if k in _ALIASES:
        return _ALIASES[k]
    slug = k.replace(" ", "-")
    if slug in FORCES:
        return slug
    k2 = k
    for suf in _SUFFIXES:
        if k2.endswith(suf):
            k2 = k2[: -len(suf)].strip()
            break
    if k2 in _ALIASES:
        return _ALIASES[k2]
    slug2 = k2.replace(" ", "-")
    if slug2 in FORCES:
        return slug2
    slug3 = k.replace(" and ", " ").replace(" ", "-")
    for known in FORCES:
        if known.replace("-and-", "-") == slug3:
            return known
    return slug


def normalise_forces(names: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_force` (maps each distinct name once)."""
    uniq = pd.unique(names.astype("string").fillna(""))
    lookup = {u: normalise_force(u) for u in uniq}
    return names.astype("string").fillna("").map(lookup)


def is_known_force(slug: str) -> bool:
    """True if ``slug`` is one of the forces in :data:`FORCES`."""
    return slug in FORCES


def force_name(slug: str) -> str:
    """Display name for a force slug (the slug itself if unknown)."""
    return FORCES.get(slug, slug)


def normalise_area_name(name: object) -> str:
    """Normalise a local-authority or other area name for joining across sources.

    Reorders inverted names ("London, City of" -> "City of London"), folds case,
    ``&`` and punctuation, and trims spaces.

    Examples
    --------
    >>> normalise_area_name("London, City of")
    'city of london'
    >>> normalise_area_name("Bristol, City of")
    'city of bristol'
    >>> normalise_area_name("  Kingston upon Hull, City of ")
    'city of kingston upon hull'
    """
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return ""
    s = str(name).strip()
    m = re.match(r"^(.*),\s*(City of|County of|The)$", s, flags=re.I)
    if m:
        s = f"{m.group(2)} {m.group(1)}"
    return _key(s)
