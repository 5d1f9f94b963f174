"""Mapped-reader dates: ambiguous and under-specified strptime formats (issue 10 item 3).

Built from the NYPD stop-and-frisk case: ``datestop`` is MMDDYYYY and ``timestop``
HHMM written through a numeric column, so leading zeros are lost (``1012014`` is
2014-01-01, ``30`` is 00:30). Plain ``%m%d%Y`` used to read ``1012014`` as October
and ``%H%M`` read ``30`` as 03:00.
"""

from __future__ import annotations

import pytest

from equity_metrics.errors import MappingError, OptionError
from equity_metrics.io._date_formats import check_format, resolve_values
from equity_metrics.io.mapped import load_mapping, read_mapped

SQF = ("datestop,timestop,race\n"
       "1012014,30,B\n"       # 2014-01-01 00:30 (NYPD); %m%d%Y alone: 1 Jan or 10 Jan -> ambiguous
       "10012014,1545,W\n"    # 2014-10-01 15:45: one reading
       "1312014,5,B\n"        # 2014-01-31 (13 is no month); time 00:05
       "12312014,2359,W\n"
       "1112014,930,B\n")     # 1 Nov or 11 Jan -> ambiguous; NYPD: 2014-01-11 09:30


def _mapping(fmt, tfmt, **extra):
    return {"columns": {"datetime": "datestop"}, "constants": {"event_type": "stop"},
            "ethnicity": {"column": "race", "scheme": "us"},
            "dates": {"datetime": {"format": fmt, "time_column": "timestop", "time_format": tfmt,
                                   "tz": "America/New_York", **extra}}}


@pytest.fixture()
def sqf(tmp_path):
    p = tmp_path / "sqf_2014.csv"
    p.write_text(SQF, encoding="utf-8")
    return p


def _dt(res):
    return [str(x) for x in res.data["datetime"].dt.tz_localize(None)]


def test_plain_mdY_rejects_ambiguous_rows_with_raw_value(sqf):
    res = read_mapped(sqf, mapping=_mapping("%m%d%Y", "%H%M"))
    assert res.ledger.rows_read == 5 and res.ledger.rows_kept == 3 and res.ledger.rows_rejected == 2
    rj = res.rejects.frame
    assert rj["value"].tolist() == ["1012014", "1112014"] and rj["line"].tolist() == [2, 6]
    assert set(rj["reason"]) == {"ambiguous date in required field 'datetime' (the format reads it more than one way)"}
    # never October for 1012014; 10012014 and 1312014 have one reading each
    assert _dt(res)[:2] == ["2014-10-01 15:45:00", "2014-01-31 00:00:00"]
    # "5" cannot be HHMM at all; nothing reads as 03:00
    assert res.data["time_known"].tolist() == [True, False, True]
    assert any("zero_pad" in n and "'1012014'" in n for n in res.ledger.notes)


def test_time_30_is_not_0300(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("datestop,timestop,race\n2014-01-01,30,B\n2014-01-01,130,B\n2014-01-01,1545,B\n", encoding="utf-8")
    res = read_mapped(p, mapping=_mapping("%Y-%m-%d", "%H%M"))
    assert res.ledger.rows_kept == 3  # a bad time keeps the date; it is counted and the raw text kept
    assert res.data["time_known"].tolist() == [False, False, True]
    assert res.data["datetime_raw"].tolist()[:2] == ["2014-01-01 30", "2014-01-01 130"]
    assert res.ledger.unknown_by_field["datetime_time"] == 2
    assert any("['130', '30']" in n for n in res.ledger.notes)


@pytest.mark.parametrize("how", [{"fmt": "nypd_mddyyyy", "tfmt": "nypd_hhmm"},
                                 {"fmt": "%m%d%Y", "tfmt": "%H%M", "zero_pad": True}])
def test_nypd_form_read_correctly(sqf, how):
    extra = {"zero_pad": True} if how.get("zero_pad") else {}
    res = read_mapped(sqf, mapping=_mapping(how["fmt"], how["tfmt"], **extra))
    assert res.ledger.rows_rejected == 0
    assert _dt(res) == ["2014-01-01 00:30:00", "2014-10-01 15:45:00", "2014-01-31 00:05:00",
                        "2014-12-31 23:59:00", "2014-01-11 09:30:00"]
    assert res.data["datetime_raw"].tolist()[0] == "1012014 30"


def test_compact_iso_still_reads_and_short_values_are_checked():
    out = resolve_values(["20140101", "20141231", "2014111", "2014010"], "%Y%m%d")
    assert str(out["20140101"]) == "2014-01-01 00:00:00" and str(out["20141231"]) == "2014-12-31 00:00:00"
    assert out["2014111"] == "ambiguous" and out["2014010"] is None


@pytest.mark.parametrize("fmt, why", [("%Q", "'%Q' is not a strptime directive"), ("%B", "no year"),
                                      ("%d %B", "no year"), ("%Y", "no month"), ("%d/%m/%Y %I:%M", "%I"),
                                      ("%-m/%d/%Y", "'%-m'"), ("%Y-%m-%d%", "lone '%'")])
def test_bad_or_underspecified_formats_refused_up_front(fmt, why):
    with pytest.raises(MappingError) as e:
        load_mapping(_mapping(fmt, "%H:%M"))
    assert isinstance(e.value, OptionError) and isinstance(e.value, ValueError)
    msg = str(e.value)
    assert why in msg and "dates.datetime.format" in msg and repr(fmt) in msg and "Use e.g." in msg


def test_bad_time_format_and_misplaced_named_formats_refused():
    with pytest.raises(MappingError, match=r"dates.datetime.time_format = '%Q'"):
        load_mapping(_mapping("%Y-%m-%d", "%Q"))
    with pytest.raises(MappingError, match="needs an hour"):
        load_mapping(_mapping("%Y-%m-%d", "%M"))
    with pytest.raises(MappingError, match="is a time format; give it under time_format"):
        load_mapping(_mapping("nypd_hhmm", "%H%M"))
    with pytest.raises(MappingError, match="zero_pad needs a digits-only format"):
        load_mapping(_mapping("%Y-%m-%d", "%H:%M", zero_pad=True))
    with pytest.raises(MappingError, match="zero_pad must be true or false"):
        load_mapping(_mapping("%m%d%Y", "%H%M", zero_pad="yes"))


def test_check_format_accepts_the_usual_ones():
    for f in ("%Y-%m-%d", "%m/%d/%Y", "%d %B %Y", "%Y-%m-%dT%H:%M:%S%z", "%d/%m/%y %I:%M %p", "%Y-%m", "%Y%m%d"):
        assert check_format(f) is None, f
    for f in ("%H:%M:%S", "%H:%M", "%H%M", "%I:%M %p"):
        assert check_format(f, time_only=True) is None, f


def test_vehicle_only_derived_from_search_type(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("Date,Type,Race\n2020-01-01,Vehicle search,Black\n2020-01-01,Person search,White\n"
                 "2020-01-01,person and vehicle  search,Asian\n2020-01-01,,White\n2020-01-01,Frisk,White\n", encoding="utf-8")
    m = {"columns": {"datetime": "Date", "search_type": "Type"}, "constants": {"event_type": "stop"},
         "ethnicity": {"column": "Race", "scheme": "uk"}, "dates": {"datetime": "%Y-%m-%d"}}
    res = read_mapped(p, mapping=m)
    assert res.data["vehicle_only"].dtype == "boolean"
    assert res.data["vehicle_only"].astype(object).where(res.data["vehicle_only"].notna(), None).tolist() == [True, False, False, None, None]
    assert any("vehicle_only: derived from search_type" in n and "1 row(s) with another" in n for n in res.ledger.notes)
    # a mapping that gives vehicle_only itself wins
    res2 = read_mapped(p, mapping={**m, "constants": {"event_type": "stop", "vehicle_only": False}})
    assert res2.data["vehicle_only"].tolist() == [False] * 5


def test_builtin_nypd_sqf_mapping(tmp_path):
    """The built-in 'nypd_sqf' mapping reads the 2003-2016 form (no leading zeros) correctly."""
    p = tmp_path / "2014.csv"
    p.write_text("year,pct,datestop,timestop,sex,race,age,arstmade,searched,frisked,contrabn\n"
                 "2014,75,1012014,30,M,B,19,N,N,Y,N\n"
                 "2014,75,10012014,1545,F,Q,22,Y,Y,Y,N\n"
                 "2014,14,1112014,5,Z,W,40,N,N,N,N\n", encoding="utf-8")
    res = read_mapped(p, mapping="nypd_sqf")
    assert res.ledger.rows_rejected == 0
    assert _dt(res) == ["2014-01-01 00:30:00", "2014-10-01 15:45:00", "2014-01-11 00:05:00"]
    assert str(res.data["datetime"].dt.tz) == "America/New_York"
    assert res.data["ethnicity"].astype(str).tolist() == ["Black", "Hispanic", "White"]
    assert res.data["sex"].astype(str).tolist() == ["Male", "Female", "Not stated"]
    assert res.data["arrest"].tolist() == [False, True, False]
    assert res.data["district"].astype(str).tolist() == ["75", "75", "14"]
