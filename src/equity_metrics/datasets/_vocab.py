"""Fixed vocabularies and area specifications of the synthetic generator (police.uk spellings, exact)."""

from __future__ import annotations

import numpy as np

DEFAULT_SEED = 20240601
GROUPS: tuple[str, ...] = ("Asian", "Black", "Mixed", "White", "Other")
SEXES2: tuple[str, ...] = ("Male", "Female")
TZ = "Europe/London"

#: The police.uk stop-and-search header, exactly.
POLICEUK_HEADER: tuple[str, ...] = (
    "Type",
    "Date",
    "Part of a policing operation",
    "Policing operation",
    "Latitude",
    "Longitude",
    "Gender",
    "Age range",
    "Self-defined ethnicity",
    "Officer-defined ethnicity",
    "Legislation",
    "Object of search",
    "Outcome",
    "Outcome linked to object of search",
    "Removal of more than just outer clothing",
)

# --------------------------------------------------------------------------- areas
#: Synthetic force areas: slug -> spec. Only the first ``areas`` are used. How each force
#: *records* searches (blank fields, the linked field, coverage) is in ``_recording.AREA_PROFILES``.
AREA_SPECS: dict[str, dict[str, Any]] = {
    "northshire": {
        "name": "Northshire", "prefix": "N", "population": 420_000, "base_rate": 3.5,
        "shares": {"Asian": 0.10, "Black": 0.06, "Mixed": 0.035, "White": 0.78, "Other": 0.025},
        "districts": {"Northport": (54.97, -1.61), "Kirkby Moor": (54.86, -1.83), "Ashdale": (55.08, -1.52), "Fenwick": (54.91, -1.40)},
        "operation_field": True, "removal_field": True, "fractional_seconds": False,
    },
    "southvale": {
        "name": "Southvale", "prefix": "S", "population": 260_000, "base_rate": 4.5,
        "shares": {"Asian": 0.05, "Black": 0.04, "Mixed": 0.03, "White": 0.86, "Other": 0.02},
        "districts": {"Vale Central": (51.10, -1.02), "Marsham": (51.02, -1.21), "Brookley": (51.19, -0.88)},
        "operation_field": False, "removal_field": False, "fractional_seconds": False,
    },
    "eastmoor": {
        "name": "Eastmoor", "prefix": "E", "population": 180_000, "base_rate": 6.0,
        "shares": {"Asian": 0.16, "Black": 0.07, "Mixed": 0.04, "White": 0.70, "Other": 0.03},
        "districts": {"Eastmoor City": (53.01, 0.31), "Heathfield": (53.12, 0.18), "Coldbeck": (52.93, 0.45)},
        "operation_field": True, "removal_field": True, "fractional_seconds": True,
    },
    "westfold": {
        "name": "Westfold", "prefix": "W", "population": 300_000, "base_rate": 4.0,
        "shares": {"Asian": 0.08, "Black": 0.05, "Mixed": 0.03, "White": 0.81, "Other": 0.03},
        "districts": {"Westfold Bay": (52.41, -4.08), "Penhallow": (52.30, -3.95)},
        "operation_field": True, "removal_field": True, "fractional_seconds": False,
    },
    "highcombe": {
        "name": "Highcombe", "prefix": "H", "population": 220_000, "base_rate": 5.0,
        "shares": {"Asian": 0.12, "Black": 0.09, "Mixed": 0.04, "White": 0.72, "Other": 0.03},
        "districts": {"Highcombe Town": (52.20, -0.70), "Lowater": (52.11, -0.82)},
        "operation_field": True, "removal_field": True, "fractional_seconds": False,
    },
}

#: Age structure of each group's residents (shares by police.uk age band).
AGE_STRUCTURE: dict[str, tuple[float, ...]] = {
    "Asian": (0.16, 0.13, 0.12, 0.17, 0.42),
    "Black": (0.15, 0.13, 0.12, 0.17, 0.43),
    "Mixed": (0.26, 0.18, 0.14, 0.14, 0.28),
    "White": (0.10, 0.08, 0.08, 0.12, 0.62),
    "Other": (0.12, 0.09, 0.13, 0.22, 0.44),
}
MALE_SHARE = 0.49

# Vocabularies (police.uk, exact) ----------------------------------------------
SELF_DEFINED_LABELS: dict[str, dict[str, float]] = {
    "Asian": {
        "Asian/Asian British - Pakistani": 0.35, "Asian/Asian British - Indian": 0.25,
        "Asian/Asian British - Bangladeshi": 0.12, "Asian/Asian British - Chinese": 0.05,
        "Asian/Asian British - Any other Asian background": 0.23,
    },
    "Black": {
        "Black/African/Caribbean/Black British - African": 0.40,
        "Black/African/Caribbean/Black British - Caribbean": 0.35,
        "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background": 0.25,
    },
    "Mixed": {
        "Mixed/Multiple ethnic groups - White and Black Caribbean": 0.35,
        "Mixed/Multiple ethnic groups - White and Black African": 0.12,
        "Mixed/Multiple ethnic groups - White and Asian": 0.18,
        "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background": 0.35,
    },
    "White": {
        "White - English/Welsh/Scottish/Northern Irish/British": 0.82, "White - Irish": 0.03,
        "White - Gypsy or Irish Traveller": 0.02, "White - Any other White background": 0.13,
    },
    "Other": {"Other ethnic group - Any other ethnic group": 0.80, "Other ethnic group - Arab": 0.20},
}
NOT_STATED_LABEL = "Other ethnic group - Not stated"
#: P(officer-defined | self-defined broad group); officer-defined has no Mixed.
OFFICER_CONFUSION: dict[str, dict[str, float]] = {
    "Asian": {"Asian": 0.92, "Black": 0.01, "Other": 0.05, "White": 0.02},
    "Black": {"Asian": 0.01, "Black": 0.95, "Other": 0.02, "White": 0.02},
    "Mixed": {"Asian": 0.10, "Black": 0.40, "Other": 0.15, "White": 0.35},
    "White": {"Asian": 0.01, "Black": 0.005, "Other": 0.015, "White": 0.97},
    "Other": {"Asian": 0.25, "Black": 0.05, "Other": 0.50, "White": 0.20},
}
LEGISLATION: dict[str, tuple[float, dict[str, float]]] = {
    "Misuse of Drugs Act 1971 (section 23)": (0.62, {"Controlled drugs": 1.0}),
    "Police and Criminal Evidence Act 1984 (section 1)": (0.30, {
        "Offensive weapons": 0.30, "Stolen goods": 0.25, "Article for use in theft": 0.25,
        "Articles for use in criminal damage": 0.12, "Fireworks": 0.08}),
    "Criminal Justice and Public Order Act 1994 (section 60)": (0.03, {"Offensive weapons": 1.0}),
    "Firearms Act 1968 (section 47)": (0.02, {"Firearms": 1.0}),
    "": (0.03, {"": 1.0}),
}
OUTCOME_IF_HIT: dict[str, float] = {
    "Arrest": 0.40, "Community resolution": 0.22, "Khat or Cannabis warning": 0.15,
    "Summons / charged by post": 0.11, "Penalty Notice for Disorder": 0.05, "Caution (simple or conditional)": 0.07,
}
OUTCOME_IF_NO_HIT: dict[str, float] = {"A no further action disposal": 0.90, "Arrest": 0.07, "Community resolution": 0.03}
#: Relative weight of each local hour of the day for event times.
HOUR_WEIGHTS = np.array(
    [3, 2, 1.5, 1, 0.7, 0.5, 0.5, 0.8, 1.2, 1.6, 2, 2.3, 2.5, 2.7, 3, 3.3, 3.8, 4.2, 4.5, 4.6, 4.6, 4.4, 4, 3.5]
)
