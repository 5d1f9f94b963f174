"""Seed tables of the fuzz campaign: small, valid inputs for every reader, mutated by ``mutate.py``.

The police.uk, census, gov.uk and Home Office rows below are copied verbatim from the
public files in ``../shared/data`` (police.uk stop-and-search archive 2020-03,
Northumbria and West Yorkshire; ONS census 2011/2021 tables; Ethnicity facts and
figures; Home Office use-of-force and stop-and-search open data). They are published
under the Open Government Licence v3.0 and a few rows are embedded so the campaign also
runs without ``../shared``. The OPP rows are shaped like the Stanford Open Policing
standardized files (as in tests/test_opp.py); the API records like the police.uk
``stops-force`` response (as in tests/test_policeuk_api.py); the mapped, training and
Chicago rows are synthetic (no real names).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable

from equity_metrics.io import (
    read_chicago_officers,
    read_chicago_use_of_force,
    read_govuk_stop_search,
    read_homeoffice_stop_search,
    read_homeoffice_use_of_force,
    read_mapped,
    read_opp,
    read_policeuk,
    read_population,
    read_training_roster,
)
from equity_metrics.io.policeuk import POLICEUK_COLUMNS


def _parse(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text.strip("\n"), newline="")))
    return rows[0], rows[1:]


@dataclass
class Seed:
    """One valid input table, the file name it is written under and how to read it."""

    key: str
    name: str  # file name (the police.uk, census and use-of-force readers read meaning from it)
    header: list[str]
    rows: list[list[str]]
    reader: Callable[..., Any]
    kwargs: dict = field(default_factory=dict)
    date_columns: tuple[str, ...] = ()
    folder: bool = False  # pass the folder, not the file (Chicago)
    gzip: bool = False  # written gzip-compressed
    companions: dict = field(default_factory=dict)  # other files of the folder (name -> CSV text), written valid


POLICEUK_TEXT = """\
Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,Outcome linked to object of search,Removal of more than just outer clothing
Person search,2020-03-01T08:00:00+00:00,,,55.028769,-1.520544,Male,18-24,White - English/Welsh/Scottish/Northern Irish/British,White,Misuse of Drugs Act 1971 (section 23),Controlled drugs,A no further action disposal,,True
Person search,2020-03-01T10:30:00+00:00,,,54.971249,-1.614472,Male,over 34,White - Any other White background,Other,Misuse of Drugs Act 1971 (section 23),Controlled drugs,A no further action disposal,True,False
Person search,2020-03-01T12:15:00+00:00,,,54.972619,-1.612959,Male,over 34,,White,Police and Criminal Evidence Act 1984 (section 1),Offensive weapons,A no further action disposal,True,False
Person and Vehicle search,2020-03-01T01:05:00+00:00,True,,53.816801,-1.529450,Male,18-24,Black/African/Caribbean/Black British - African,Black,Misuse of Drugs Act 1971 (section 23),Controlled drugs,Community resolution,False,False
Vehicle search,2020-03-01T02:15:00+00:00,False,,53.641580,-1.891451,,,Other ethnic group - Not stated,,Misuse of Drugs Act 1971 (section 23),Controlled drugs,Community resolution,False,True
Person and Vehicle search,2020-03-01T02:15:00+00:00,True,,53.823316,-1.547652,Male,over 34,Asian/Asian British - Indian,Asian,Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,False,False
"""

OPP_TEXT = """\
raw_row_number,date,time,location,lat,lng,district,beat,subject_age,subject_race,subject_sex,officer_id_hash,type,arrest_made,citation_issued,warning_issued,outcome,contraband_found,frisk_performed,search_conducted,raw_subject_ethnicity
101,2016-01-03,00:05:00,"800 S STATE ST, CHICAGO",41.871,-87.627,1,0133,27,black,male,5f2a1b9c0d,vehicular,FALSE,TRUE,FALSE,citation,NA,FALSE,FALSE,NA
102,2016-01-03,NA,NA,NA,NA,NA,NA,NA,white,female,5f2a1b9c0d,pedestrian,FALSE,FALSE,TRUE,warning,TRUE,NA,FALSE,HISPANIC
103,2016-03-13,02:30:00,"1 W MADISON ST",41.882,-87.628,1,0111,45,hispanic,male,77ab00ef31,vehicular,TRUE,FALSE,FALSE,arrest,FALSE,TRUE,TRUE,NA
104,2016-11-06,01:30:00,"1 W MADISON ST",41.882,-87.628,1,0111,16,asian/pacific islander,female,77ab00ef31,vehicular,FALSE,FALSE,TRUE,warning,TRUE,FALSE,TRUE,NON-HISPANIC
"""

POP2011_TEXT = """\
PFA16NM,Ethnic Group: All categories: Ethnic group; measures: Value,Ethnic Group: White; measures: Value,Ethnic Group: White: English/Welsh/Scottish/Northern Irish/British; measures: Value,Ethnic Group: White: Irish; measures: Value,Ethnic Group: White: Gypsy or Irish Traveller; measures: Value,Ethnic Group: White: Other White; measures: Value,Ethnic Group: Mixed; measures: Value,Ethnic Group: Mixed/multiple ethnic group: White and Black Caribbean; measures: Value,Ethnic Group: Mixed/multiple ethnic group: White and Black African; measures: Value,Ethnic Group: Mixed/multiple ethnic group: White and Asian; measures: Value,Ethnic Group: Mixed/multiple ethnic group: Other Mixed; measures: Value,Ethnic Group: Asian; measures: Value,Ethnic Group: Asian/Asian British: Indian; measures: Value,Ethnic Group: Asian/Asian British: Pakistani; measures: Value,Ethnic Group: Asian/Asian British: Bangladeshi; measures: Value,Ethnic Group: Asian/Asian British: Chinese; measures: Value,Ethnic Group: Asian/Asian British: Other Asian; measures: Value,Ethnic Group: Black; measures: Value,Ethnic Group: Black/African/Caribbean/Black British: African; measures: Value,Ethnic Group: Black/African/Caribbean/Black British: Caribbean; measures: Value,Ethnic Group: Black/African/Caribbean/Black British: Other Black; measures: Value,Ethnic Group: Other; measures: Value,Ethnic Group: Other ethnic group: Arab; measures: Value,Ethnic Group: Other ethnic group: Any other ethnic group; measures: Value
Avon & Somerset,1599555,1491970,1425794,9590,1597,54989,28277,11737,3127,7477,5936,41981,12248,8045,3302,8976,9410,30923,14561,8858,7504,6404,2315,4089
Warwickshire,545474,505688,482607,5216,494,17371,7949,3090,698,2606,1555,25096,16435,1728,284,2349,4300,4443,2173,1733,537,2298,467,1831
West Mercia,1222416,1176516,1135987,6328,2006,32195,13466,5745,1247,3936,2538,25260,7952,7523,1718,3545,4522,5062,2252,2149,661,2112,606,1506
"""

POP2021_TEXT = """\
Geography Code,Geography Name,Sex,"Asian, Asian British or Asian Welsh: Bangladeshi","Asian, Asian British or Asian Welsh: Chinese","Asian, Asian British or Asian Welsh: Indian","Asian, Asian British or Asian Welsh: Pakistani","Asian, Asian British or Asian Welsh: Other Asian","Black, Black British, Black Welsh, Caribbean or African: African","Black, Black British, Black Welsh, Caribbean or African: Caribbean","Black, Black British, Black Welsh, Caribbean or African: Other Black",Mixed or Multiple ethnic groups: White and Asian,Mixed or Multiple ethnic groups: White and Black African,Mixed or Multiple ethnic groups: White and Black Caribbean,Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups,"White: English, Welsh, Scottish, Northern Irish or British",White: Gypsy or Irish Traveller,White: Irish,White: Roma,White: Other White,Other ethnic group: Arab,Other ethnic group: Any other ethnic group
E06000001,Hartlepool,Female,145,120,180,140,270,175,25,30,115,65,80,95,45285,15,80,10,555,130,135
E06000020,Telford and Wrekin,Female,100,440,2290,1695,615,1950,340,310,660,335,1035,405,78305,110,365,85,4385,110,675
E06000020,Telford and Wrekin,Male,110,380,2270,1670,500,2010,410,330,655,345,1045,365,75630,90,360,100,4205,135,725
"""

GOVUK_TEXT = """\
Measure,Time,Time_type,Ethnicity,Ethnicity_type,Geography,Geography_type, Number of stop and searches , Total number of stop and search carried out in this year in this area (excluding cases where the ethnicity was unreported) ,Population by ethnicity,"Rate per 1,000 population by ethnicity",Proportion of total stop and searches of this ethnicity in the financial year (excludes unreported),Notes
Number of stops and searches carried out (excluding vehicle only searches),2006/07,Financial year,All,All,Avon & Somerset,Police Force Area,"15,018","9,050","1,599,555",9.39,N/A,
Number of stops and searches carried out (excluding vehicle only searches),2006/07,Financial year,All,All,Warwickshire,Police Force Area,"5,088","5,020","545,474",9.33,N/A,
Number of stops and searches carried out (excluding vehicle only searches),2006/07,Financial year,All,All,West Mercia,Police Force Area,"12,125","11,652","1,222,416",9.92,N/A,
"""

UOF_TEXT = """\
Police Force,Type of force,Tactic,White,Black (or Black British),Asian (or Asian British),Mixed,Other,Not reported,Number of times tactic reported
Total England and Wales,Total (excluding not reported and tactical communication),*Total Tactics,508663.0,111252.0,45719.0,15871.0,16000.0,17771.0,715276.0
Avon & Somerset,Total (excluding not reported and tactical communication),*Total Tactics,12788.0,954.0,153.0,183.0,72.0,6943.0,21093.0
Avon & Somerset,Restraint,*Total Restraint,5955.0,433.0,79.0,87.0,33.0,3340.0,9927.0
Total England and Wales,Restraint,"Handcuffing, of which",239625.0,60024.0,26702.0,7771.0,9226.0,7122.0,350470.0
"""

HO_TEXT = """\
financial_year,police_force,ethnicity,total_searches
2020/21,Avon & Somerset,Asian,310
2020/21,Avon & Somerset,Black,859
2020/21,Avon & Somerset,Mixed,267
2020/21,Avon & Somerset,Other,63
2020/21,Avon & Somerset,White,6136
"""

TRAINING_TEXT = """\
officer_id,force,course,completed,appointed,resigned
N0001,northshire,Fair and Effective Policing,2020-09-02,1998-09-25,
N0002,northshire,Fair and Effective Policing,2021-08-06,2004-02-28,
N0003,northshire,Fair and Effective Policing,2019-10-03,2001-07-24,2022-01-31
"""

MAPPED_TEXT = """\
event_id,officer_id,force,district,datetime,event_type,subject_ethnicity,outcome
EV000001,E0013,eastmoor,Eastmoor City,2019-01-01T03:10:00,search,White,Arrest
EV000002,E0039,eastmoor,Coldbeck,2019-01-01T03:18:00,search,Black,No further action
EV000003,E0017,eastmoor,Coldbeck,2019-01-01T09:10:00,search,Other,No further action
"""

#: The mapping of data/samples/officer_events_mapping.toml, as a dict (the campaign also writes it as TOML).
MAPPING = {
    "name": "synthetic officer events",
    "kind": "events",
    "source": "synthetic",
    "id": "event_id",
    "required": ["datetime", "event_type", "officer_id"],
    "columns": {"officer_id": "officer_id", "force": "force", "district": "district", "event_type": "event_type",
                "outcome": "outcome", "arrest": "outcome"},
    "dates": {"datetime": {"column": "datetime", "format": "%Y-%m-%dT%H:%M:%S", "tz": "Europe/London"}},
    "values": {"arrest": {"Arrest": True, "No further action": False}},
    "ethnicity": {"column": "subject_ethnicity", "scheme": "uk", "label": "recorded"},
}

CHICAGO_TEXT = """\
UID,first_name,last_name,middle_initial,middle_initial2,suffix_name,birth_year,race,gender,appointed_date,resignation_date,current_status,current_star,current_unit,current_unit_description,current_rank,start_date,org_hire_date,profile_count
900001,X,DOE,A,,,1961.0,WHITE,MALE,1986-06-03,,1.0,1234.0,7.0,DISTRICT 007,POLICE OFFICER,,,2
900002,Y,ROE,,,,1970.0,BLACK,FEMALE,1994-09-01,2010-10-18,0.0,5678.0,,,SERGEANT,,,1
900003,Z,POE,B,,,1975.0,HISPANIC,MALE,1999-06-24,,1.0,9012.0,11.0,DISTRICT 011,POLICE OFFICER,,,3
"""


TRR_MAIN_TEXT = """\
trr_id,rd_no,event_no,beat,block,direction,street,location,trr_date,trr_time,indoor_or_outdoor,lighting_condition,weather_condition,notify_OEMC,notify_district_sergeant,notify_OP_command,notify_DET_division,number_of_weapons_discharged,party_fired_first,location_recode
4,aa,401710600,1322,17XX,West,DIVISION ST,SIDEWALK,2004-01-17,14:47:00,Outdoor,DAYLIGHT,OTHER,,,,,,,SIDEWALK
5,bb,401710601,1631,10XX,North,STATE ST,STREET,2010-06-30,23:59:00,Outdoor,NIGHT,CLEAR,,,,,,,STREET
6,cc,401710602,0,10XX,North,STATE ST,STREET,2016-03-13,02:30:00,Indoor,,,,,,,,,STREET
"""
TRR_COMPANIONS = {
    "TRR-officers_2004-2016_2016-09.csv.gz": """\
row_id,TRR-officers_2004-2016_2016-09_ID,trr_id,injured,unit,rank,in_uniform,unit_detail,duty_status,assigned_beat
1,1,4,No,13,POLICE OFFICER,No,,Yes,1368A
2,2,5,Yes,7,SERGEANT,Yes,,Yes,
""",
    "TRR-officers_2004-2016_2016-09_profiles.csv.gz": """\
TRR-officers_2004-2016_2016-09_ID,first_name,last_name,first_name_NS,last_name_NS,middle_initial,middle_initial2,suffix_name,appointed_date,gender,race,current_star,merge
1,X,DOE,X,DOE,,,,1994-01-18,MALE,HISPANIC,21565.0,1.0
2,Y,ROE,Y,ROE,,,,2001-05-01,FEMALE,BLACK,1234.0,1.0
""",
    "TRR-subjects_2004-2016_2016-09.csv.gz": """\
trr_id,gender,race,age,birth_year,armed,injured,alleged_injury,subject_no,sr_no,se_no,trr_date
4,MALE,HISPANIC,38.0,1965.0,No,Yes,Yes,1.0,1.0,1.0,2004-01-17
5,FEMALE,BLACK,22.0,1988.0,No,No,No,1.0,1.0,1.0,2010-06-30
""",
}


def _seed(key, name, text, reader, **kw) -> Seed:
    header, rows = _parse(text)
    return Seed(key, name, header, rows, reader, **kw)


SEEDS: dict[str, Seed] = {
    s.key: s
    for s in [
        _seed("policeuk", "2020-03-northumbria-stop-and-search.csv", POLICEUK_TEXT, read_policeuk, date_columns=("Date",)),
        _seed("opp", "il_chicago_2016_01_03.csv", OPP_TEXT, read_opp, kwargs={"tz": "America/Chicago"},
              date_columns=("date", "time")),
        _seed("mapped", "officer_events.csv", MAPPED_TEXT, read_mapped, kwargs={"mapping": MAPPING},
              date_columns=("datetime",)),
        _seed("training", "training.csv", TRAINING_TEXT, read_training_roster,
              date_columns=("completed", "appointed", "resigned")),
        _seed("population2011", "census2011_pfa_ethnic_group_18.csv", POP2011_TEXT, read_population),
        _seed("population2021", "census2021_la_sex_ethnic_group.csv", POP2021_TEXT, read_population),
        _seed("govuk", "ethnicity_facts_stop_and_search_2006-07_2017-18.csv", GOVUK_TEXT, read_govuk_stop_search),
        _seed("use_of_force", "use_of_force_by_ethnicity_force_2019-20.csv", UOF_TEXT, read_homeoffice_use_of_force),
        _seed("homeoffice", "ho_opendata_force_by_ethnicity_2020-21_2021-22.csv", HO_TEXT, read_homeoffice_stop_search),
        _seed("chicago_officers", "final-profiles.csv.gz", CHICAGO_TEXT, read_chicago_officers, folder=True, gzip=True,
              date_columns=("appointed_date", "resignation_date")),
        _seed("chicago_use_of_force", "TRR-main_2004-2016_2016-09.csv.gz", TRR_MAIN_TEXT, read_chicago_use_of_force,
              folder=True, gzip=True, date_columns=("trr_date", "trr_time"), companions=TRR_COMPANIONS),
    ]
}
assert SEEDS["policeuk"].header == list(POLICEUK_COLUMNS)  # test-module sanity check, not library validation

#: police.uk API records (shape of https://data.police.uk/api/stops-force, as in tests/test_policeuk_api.py).
API_RECORDS: list[dict] = [
    {
        "age_range": "18-24", "outcome": "A no further action disposal", "involved_person": True,
        "self_defined_ethnicity": "White - English/Welsh/Scottish/Northern Irish/British", "gender": "Male",
        "legislation": "Misuse of Drugs Act 1971 (section 23)", "outcome_linked_to_object_of_search": False,
        "datetime": "2021-05-01T09:15:00+00:00", "removal_of_more_than_outer_clothing": False,
        "outcome_object": {"id": "bu-no-further-action", "name": "A no further action disposal"},
        "location": {"latitude": "51.454513", "street": {"id": 1738842, "name": "On or near Park Street"},
                     "longitude": "-2.597849"},
        "operation": False, "officer_defined_ethnicity": "White", "type": "Person search", "operation_name": None,
        "object_of_search": "Controlled drugs",
    },
    {
        "age_range": "over 34", "outcome": "Arrest", "involved_person": True,
        "self_defined_ethnicity": "Other ethnic group - Not stated", "gender": "Female",
        "legislation": "Police and Criminal Evidence Act 1984 (section 1)", "outcome_linked_to_object_of_search": True,
        "datetime": "2021-04-30T23:00:00+00:00", "removal_of_more_than_outer_clothing": False,
        "outcome_object": {"id": "bu-arrest", "name": "Arrest"}, "location": None, "operation": None,
        "officer_defined_ethnicity": "Black", "type": "Person and Vehicle search", "operation_name": None,
        "object_of_search": "Offensive weapons",
    },
    {
        "age_range": None, "outcome": "Community resolution", "involved_person": False, "self_defined_ethnicity": None,
        "gender": None, "legislation": "Misuse of Drugs Act 1971 (section 23)", "outcome_linked_to_object_of_search": None,
        "datetime": "2021-05-31T22:59:59+00:00", "removal_of_more_than_outer_clothing": None,
        "outcome_object": {"id": "bu-community-resolution", "name": "Community resolution"},
        "location": {"latitude": "51.4", "street": {"id": 1, "name": "On or near Bristol Road"}, "longitude": "-2.6"},
        "operation": True, "officer_defined_ethnicity": None, "type": "Vehicle search", "operation_name": "OP X",
        "object_of_search": "Stolen goods",
    },
]  # fmt: skip
