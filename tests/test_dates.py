"""crawler.dates: every form the sources write, their refusals, and properties of the parser.

Expected values are written by hand (never computed with the module under test); every
reference time is fixed. ``assert_same`` compares the instant *and* the UTC offset, so a
value 9 hours off or in the wrong zone fails even when the instants happen to agree.
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.dates import (
    EARLIEST,
    MAX_FUTURE,
    WEEKDAY_FUTURE_DAYS,
    WEEKDAY_SEARCH_YEARS,
    YEARLESS_FUTURE_DAYS,
    DateParseError,
    FoundDate,
    find_dates,
    parse_date,
    parse_datetime,
)

JST = ZoneInfo("Asia/Tokyo")
# The crawl time used as reference unless a case says otherwise: a Friday.
REF = datetime(2025, 12, 26, 12, 0, tzinfo=JST)


def jst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=JST)


def fixed(
    hours: float, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone(timedelta(hours=hours)))


def assert_same(got: datetime, expected: datetime) -> None:
    assert got.tzinfo is not None and got.utcoffset() is not None, f"naive result {got!r}"
    assert got == expected, f"{got.isoformat()} != {expected.isoformat()}"
    assert got.utcoffset() == expected.utcoffset(), f"{got.isoformat()} offset"


# --- Every form the issue lists, with its exact aware value ---------------------------------

FORMS = [
    # Western numeric forms (dateutil reads them)
    pytest.param("2024-10-22 18:15", None, jst(2024, 10, 22, 18, 15), id="dateline"),
    pytest.param("2025-3-5 09:33", None, jst(2025, 3, 5, 9, 33), id="dateline-unpadded"),
    pytest.param("  2026-2-2 11:41\n", None, jst(2026, 2, 2, 11, 41), id="dateline-whitespace"),
    pytest.param("2025/03/05", None, jst(2025, 3, 5), id="slash"),
    pytest.param("2025.3.5", None, jst(2025, 3, 5), id="dot"),
    pytest.param("2025/03/05(水) 10:00", None, jst(2025, 3, 5, 10), id="slash-weekday-time"),
    pytest.param("更新日:2024/10/22 9:05", None, jst(2024, 10, 22, 9, 5), id="label-before"),
    pytest.param("2024-10-22T09:15:00Z", None, fixed(0, 2024, 10, 22, 9, 15), id="iso-z"),
    pytest.param("2024-10-22T09:15:00+09:00", None, fixed(9, 2024, 10, 22, 9, 15), id="iso-offset"),
    pytest.param(
        "2024-10-22T09:15:00.250-05:00",
        None,
        datetime(2024, 10, 22, 9, 15, 0, 250000, tzinfo=timezone(timedelta(hours=-5))),
        id="iso-fraction-negative",
    ),
    pytest.param("2025-3-5T09:33", None, jst(2025, 3, 5, 9, 33), id="iso-unpadded-naive"),
    pytest.param(
        "2024-10-22 10:00:00+09:00", None, fixed(9, 2024, 10, 22, 10), id="str-of-datetime"
    ),
    pytest.param("2024-10-22 10:00 -0500", None, fixed(-5, 2024, 10, 22, 10), id="spaced-offset"),
    pytest.param("2024-10-22 10:00 JST", None, jst(2024, 10, 22, 10), id="numeric-jst"),
    # RFC 822 / 2822 and English month names
    pytest.param(
        "Tue, 22 Oct 2024 09:15:00 GMT", None, fixed(0, 2024, 10, 22, 9, 15), id="rfc822-gmt"
    ),
    pytest.param(
        "Tue, 22 Oct 2024 09:15:00 +0900", None, fixed(9, 2024, 10, 22, 9, 15), id="rfc822-+0900"
    ),
    pytest.param("Tue, 22 Oct 2024 09:15:00 JST", None, jst(2024, 10, 22, 9, 15), id="rfc822-jst"),
    pytest.param("Tue, 11 Mar 2025 00:00:00 +0000", None, fixed(0, 2025, 3, 11), id="rfc822-+0000"),
    pytest.param("Mon, 10 Mar 2025 09:00:00 EST", None, fixed(-5, 2025, 3, 10, 9), id="rfc822-est"),
    pytest.param("Tue, 22 Oct 2024 09:15 UT", None, fixed(0, 2024, 10, 22, 9, 15), id="rfc822-ut"),
    pytest.param("22 Oct 2024", None, jst(2024, 10, 22), id="day-month-year"),
    pytest.param(
        "Thurs, 24 Oct 2024 10:00 +0000", None, fixed(0, 2024, 10, 24, 10), id="rfc822-thurs"
    ),
    pytest.param(
        "Oct. 22, 2024, 9:15 a.m.", None, jst(2024, 10, 22, 9, 15), id="english-abbrev-am"
    ),
    pytest.param("2024/10/22 10:00 PM", None, jst(2024, 10, 22, 22), id="numeric-pm"),
    pytest.param("2024-10-22 10:00 NHK", None, jst(2024, 10, 22, 10), id="word-after-time"),
    pytest.param(
        "October 22, 2024 3:30 PM", None, jst(2024, 10, 22, 15, 30), id="english-pm-naive"
    ),
    # Japanese Gregorian forms
    pytest.param("2024年10月22日", None, jst(2024, 10, 22), id="jp"),
    pytest.param("2024年10月22日(火)", None, jst(2024, 10, 22), id="jp-weekday"),
    pytest.param("2024年10月22日（火）", None, jst(2024, 10, 22), id="jp-weekday-fullwidth"),
    pytest.param("2024年10月22日(火曜日)", None, jst(2024, 10, 22), id="jp-weekday-long"),
    pytest.param("2024年10月22日 火曜日", None, jst(2024, 10, 22), id="jp-weekday-bare"),
    pytest.param("2025年5月6日(火・祝)", None, jst(2025, 5, 6), id="jp-weekday-holiday"),
    pytest.param("2024年10月22日18時15分", None, jst(2024, 10, 22, 18, 15), id="jp-jikan"),
    pytest.param("2024年10月22日 18:15", None, jst(2024, 10, 22, 18, 15), id="jp-colon"),
    pytest.param("2024年10月22日 18時", None, jst(2024, 10, 22, 18), id="jp-hour-only"),
    pytest.param(
        "2024年10月22日18時15分30秒", None, jst(2024, 10, 22, 18, 15, 30), id="jp-seconds"
    ),
    pytest.param("2024年10月22日 10時半", None, jst(2024, 10, 22, 10, 30), id="jp-han"),
    pytest.param("2024年10月22日正午", None, jst(2024, 10, 22, 12), id="jp-noon"),
    pytest.param("2024年10月22日 午前9時", None, jst(2024, 10, 22, 9), id="gozen"),
    pytest.param("2024年10月22日 午後3時30分", None, jst(2024, 10, 22, 15, 30), id="gogo"),
    pytest.param("2024年10月22日 午前0時", None, jst(2024, 10, 22, 0), id="gozen-0"),
    pytest.param("2024年10月22日 午後0時", None, jst(2024, 10, 22, 12), id="gogo-0"),
    pytest.param("2024年10月22日 午前12時", None, jst(2024, 10, 22, 12), id="gozen-12-noon"),
    pytest.param("2024年10月22日 午後12時", None, jst(2024, 10, 23, 0), id="gogo-12-midnight"),
    pytest.param(
        "２０２４年１０月２２日（火）１８時１５分", None, jst(2024, 10, 22, 18, 15), id="fullwidth"
    ),
    pytest.param(
        "２０２４－１０－２２　１８：１５", None, jst(2024, 10, 22, 18, 15), id="fullwidth-iso"
    ),
    # Era years
    pytest.param("令和6年10月18日", None, jst(2024, 10, 18), id="reiwa"),
    pytest.param(
        "令和6(2024)年10月18日(金)01時35分", None, jst(2024, 10, 18, 1, 35), id="reiwa-western"
    ),
    pytest.param(
        "令和６（２０２４）年１０月１８日", None, jst(2024, 10, 18), id="reiwa-western-fw"
    ),
    pytest.param("令和6年(2024年)10月18日", None, jst(2024, 10, 18), id="reiwa-western-after"),
    pytest.param("2025年(令和7年)9月17日(水)", None, jst(2025, 9, 17), id="western-reiwa"),
    pytest.param("2024(令和6)年10月18日", None, jst(2024, 10, 18), id="western-reiwa-inside"),
    pytest.param("令和元年5月1日", None, jst(2019, 5, 1), id="reiwa-gannen-first-day"),
    pytest.param("令和元(2019)年5月1日", None, jst(2019, 5, 1), id="reiwa-gannen-western"),
    pytest.param("平成31年4月30日", None, jst(2019, 4, 30), id="heisei-last-day"),
    pytest.param("平成元年1月8日", None, jst(1989, 1, 8), id="heisei-first-day"),
    pytest.param("昭和64年1月7日", None, jst(1989, 1, 7), id="showa-last-day"),
    pytest.param("昭和45年11月25日", None, jst(1970, 11, 25), id="showa"),
    pytest.param("大正12年9月1日", None, jst(1923, 9, 1), id="taisho"),
    pytest.param("明治37年2月8日", None, jst(1904, 2, 8), id="meiji"),
    pytest.param("㍻31年4月30日", None, jst(2019, 4, 30), id="heisei-ligature"),
    pytest.param("㋿2年1月1日", None, jst(2020, 1, 1), id="reiwa-ligature"),
    pytest.param("R6.10.18", None, jst(2024, 10, 18), id="short-R"),
    pytest.param("令6.10.18", None, jst(2024, 10, 18), id="short-rei"),
    pytest.param("H31.4.30", None, jst(2019, 4, 30), id="short-H"),
    pytest.param("S64.1.7", None, jst(1989, 1, 7), id="short-S"),
    pytest.param("R6/10/18", None, jst(2024, 10, 18), id="short-R-slash"),
    pytest.param("R元.5.1", None, jst(2019, 5, 1), id="short-R-gannen"),
    # Dates without a year (REF is Friday 2025-12-26)
    pytest.param("(12月24日)", REF, jst(2025, 12, 24), id="yearless-title"),
    pytest.param("12月19日付け", REF, jst(2025, 12, 19), id="yearless-tsuke"),
    pytest.param("10月17日(金)", REF, jst(2025, 10, 17), id="yearless-weekday-nearest"),
    pytest.param("10月17日(木)", REF, jst(2024, 10, 17), id="yearless-weekday-decides"),
    pytest.param("1月10日", REF, jst(2026, 1, 10), id="yearless-shortly-after"),
    pytest.param("2月24日", REF, jst(2026, 2, 24), id="yearless-60-days-after"),
    pytest.param("2月25日", REF, jst(2025, 2, 25), id="yearless-61-days-after"),
    pytest.param("12月26日 9時", REF, jst(2025, 12, 26, 9), id="yearless-same-day"),
    # Ranges and lists: the first date
    pytest.param("12月21日・22日", REF, jst(2025, 12, 21), id="list-nakaguro"),
    pytest.param("令和7年12月14日、15日付け", None, jst(2025, 12, 14), id="list-comma"),
    pytest.param(
        "10月17日(木)15時00分~17時30分", REF, jst(2024, 10, 17, 15), id="time-range-yearless"
    ),
    pytest.param(
        "令和7年10月17日(金)11時~11時38分", None, jst(2025, 10, 17, 11), id="time-range-era"
    ),
    pytest.param("2024-10-22 10:00-11:00", None, jst(2024, 10, 22, 10), id="numeric-time-range"),
    # Foreign local time: the wall time stays, on `tz` as a placeholder
    pytest.param(
        "令和6(2024)年10月18日(金)01時35分(現地時間)",
        None,
        jst(2024, 10, 18, 1, 35),
        id="local-time",
    ),
    # Leads seen on the site
    pytest.param(
        "令和7(2025)年10月28日(火)08時57分~09時28分、…防衛大臣は…記者会見を行った。",
        None,
        jst(2025, 10, 28, 8, 57),
        id="lead-press-conference",
    ),
    pytest.param(
        "防衛省 統合幕僚監部は令和6(2024)年9月12日(木)、…を公表した。",
        None,
        jst(2024, 9, 12),
        id="lead-announcement",
    ),
]


@pytest.mark.parametrize(("text", "reference", "expected"), FORMS)
def test_parse_datetime_forms(text: str, reference: datetime | None, expected: datetime) -> None:
    assert_same(parse_datetime(text, reference=reference), expected)


@pytest.mark.parametrize(("text", "reference", "expected"), FORMS)
def test_parse_date_agrees_and_raw_is_a_slice(
    text: str, reference: datetime | None, expected: datetime
) -> None:
    found = parse_date(text, reference=reference)
    assert_same(found.value, expected)
    assert found.raw == text[found.start : found.end]
    assert found.span == (found.start, found.end)
    assert found.raw and found.raw == found.raw.strip()
    # find_dates sees the same first date
    first = find_dates(text, reference=reference)[0]
    assert first == found


# --- What the result records -----------------------------------------------------------------


def test_flags_for_a_full_japanese_date() -> None:
    found = parse_date("令和6(2024)年10月18日(金)01時35分")
    assert (found.year_given, found.time_given, found.weekday_given, found.offset_known) == (
        True,
        True,
        True,
        True,
    )
    assert found.warnings == () and found.also == ()


def test_flags_for_a_yearless_date() -> None:
    found = parse_date("(12月24日)", reference=REF)
    assert (found.year_given, found.time_given, found.weekday_given) == (False, False, False)
    assert found.span == (1, 7)


def test_local_time_marker_keeps_wall_time_and_records_unknown_offset() -> None:
    text = "令和6(2024)年10月18日(金)01時35分(現地時間)"
    found = parse_date(text)
    assert found.offset_known is False
    assert found.raw == text  # the marker belongs to the expression
    assert (found.value.hour, found.value.minute) == (1, 35)
    # the placeholder is the caller's tz, not a guess
    other = parse_date(text, tz="UTC")
    assert_same(other.value, datetime(2024, 10, 18, 1, 35, tzinfo=UTC))
    assert other.offset_known is False


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        pytest.param(
            "…23時30分に到着。10月17日23時30分(現地時間)", "10月17日23時30分(現地時間)", id="suffix"
        ),
        pytest.param("10月17日(現地時刻)", "10月17日(現地時刻)", id="suffix-jikoku"),
        pytest.param("防衛省は現地時間10月17日23時", "現地時間10月17日23時", id="prefix"),
        pytest.param("米国時間の10月17日", "米国時間の10月17日", id="prefix-named-place"),
        pytest.param("10月17日9時(米東部時間)", "10月17日9時(米東部時間)", id="foreign-zone-name"),
    ],
)
def test_foreign_local_time_markers(text: str, raw: str) -> None:
    (found,) = find_dates(text, reference=REF)
    assert found.raw == raw
    assert found.offset_known is False


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("10月17日9時(所要時間)", id="duration-in-brackets"),
        pytest.param("勤務時間10月17日9時", id="not-a-place"),
        pytest.param("10月17日9時", id="plain"),
    ],
)
def test_no_local_time_marker(text: str) -> None:
    (found,) = find_dates(text, reference=REF)
    assert found.offset_known is True
    assert "時間" not in found.raw


def test_japan_time_marker_overrides_tz() -> None:
    found = parse_date("10月17日9時(日本時間)", reference=REF, tz="UTC")
    assert_same(found.value, jst(2025, 10, 17, 9))
    assert found.offset_known is True
    found = parse_date("日本時間10月17日9時", reference=REF, tz="UTC")
    assert_same(found.value, jst(2025, 10, 17, 9))
    assert found.raw == "日本時間10月17日9時"
    found = parse_date("10月17日9時(UTC)", reference=REF)
    assert_same(found.value, datetime(2025, 10, 17, 9, tzinfo=UTC))
    assert found.raw == "10月17日9時(UTC)" and found.offset_known is True


def test_naive_input_is_in_tz_explicit_offsets_are_kept() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert_same(
        parse_datetime("2024-10-22 18:15", tz="Europe/Paris"),
        datetime(2024, 10, 22, 18, 15, tzinfo=paris),
    )
    assert parse_datetime("2024-10-22 18:15", tz="Europe/Paris").utcoffset() == timedelta(hours=2)
    assert_same(
        parse_datetime("2024-10-22T18:15:00+09:00", tz="Europe/Paris"),
        fixed(9, 2024, 10, 22, 18, 15),
    )
    assert_same(
        parse_datetime("2024年10月22日 18時15分", tz="UTC"),
        datetime(2024, 10, 22, 18, 15, tzinfo=UTC),
    )


def test_ranges_and_lists_keep_the_other_dates() -> None:
    cases = {
        "12月21日・22日": (jst(2025, 12, 21), (jst(2025, 12, 22),)),
        "12月14日、15日": (jst(2025, 12, 14), (jst(2025, 12, 15),)),
        "12月21日(日)~23日(火)": (jst(2025, 12, 21), (jst(2025, 12, 23),)),
        "12月21日から22日": (jst(2025, 12, 21), (jst(2025, 12, 22),)),
        "12月28日~1月4日": (jst(2025, 12, 28), (jst(2026, 1, 4),)),
        "11月30日~2日": (jst(2025, 11, 30), (jst(2025, 12, 2),)),
        "12月1日、2日、3日": (jst(2025, 12, 1), (jst(2025, 12, 2), jst(2025, 12, 3))),
        "10月17日(木)15時00分~17時30分": (jst(2024, 10, 17, 15), (jst(2024, 10, 17, 17, 30),)),
        "令和7年10月17日(金)11時~11時38分": (
            jst(2025, 10, 17, 11),
            (jst(2025, 10, 17, 11, 38),),
        ),
        "12月24日23時~1時": (jst(2025, 12, 24, 23), (jst(2025, 12, 25, 1),)),
        "12月21日10時~22日15時": (jst(2025, 12, 21, 10), (jst(2025, 12, 22, 15),)),
        "2024-10-22 10:00-11:30": (jst(2024, 10, 22, 10), (jst(2024, 10, 22, 11, 30),)),
        "2024年12月21日午前10時~午後3時": (jst(2024, 12, 21, 10), (jst(2024, 12, 21, 15),)),
    }
    for text, (value, also) in cases.items():
        found = parse_date(text, reference=REF)
        assert_same(found.value, value)
        assert len(found.also) == len(also), text
        for got, expected in zip(found.also, also, strict=True):
            assert_same(got, expected)
        assert found.raw == text, text


def test_a_follow_up_with_its_own_year_is_a_date_of_its_own() -> None:
    found = find_dates("2024年10月22日~2024年10月25日")
    assert [f.raw for f in found] == ["2024年10月22日", "2024年10月25日"]
    assert found[0].also == ()


def test_counts_and_durations_after_a_comma_are_not_days() -> None:
    for text in ("12月14日、1日あたり3回", "12月14日、3日間", "12月14日、15時から"):
        (found,) = find_dates(text, reference=REF)
        assert found.raw == "12月14日", text
        assert found.also == (), text


def test_invalid_follow_up_ends_the_expression_with_a_warning() -> None:
    found = parse_date("12月21日10時~25時", reference=REF)
    assert_same(found.value, jst(2025, 12, 21, 10))
    assert found.also == ()
    assert found.raw == "12月21日10時"
    assert any("25時" in w for w in found.warnings)


# --- Weekdays and warnings -------------------------------------------------------------------


def test_wrong_weekday_with_a_year_keeps_the_date_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = "令和7(2025)年10月17日(木)"  # 2025-10-17 is a Friday: a typo in the source
    with caplog.at_level(logging.WARNING, logger="crawler.dates"):
        found = parse_date(text)
    assert_same(found.value, jst(2025, 10, 17))
    assert len(found.warnings) == 1 and "(木)" in found.warnings[0]
    assert found.weekday_given is True
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert text in record.getMessage() and "weekday" in record.getMessage()


def test_wrong_english_weekday_warns() -> None:
    found = parse_date("Wed, 22 Oct 2024 09:15:00 GMT")
    assert_same(found.value, fixed(0, 2024, 10, 22, 9, 15))
    assert len(found.warnings) == 1 and "Wed" in found.warnings[0]


def test_right_weekdays_give_no_warning() -> None:
    for text in (
        "2024年10月22日(火)",
        "Tue, 22 Oct 2024 09:15:00 GMT",
        "2025/03/05(水)",
        "R6.10.18(金)",
    ):
        assert parse_date(text).warnings == (), text


@pytest.mark.parametrize(
    ("text", "value", "fragment"),
    [
        pytest.param("平成31年5月1日", jst(2019, 5, 1), "past the end of 平成", id="heisei-31-5-1"),
        pytest.param("平成32年3月31日", jst(2020, 3, 31), "past the end of 平成", id="heisei-32"),
        pytest.param("昭和64年1月8日", jst(1989, 1, 8), "past the end of 昭和", id="showa-64-1-8"),
        pytest.param("H31.5.1", jst(2019, 5, 1), "past the end of 平成", id="short-form"),
        pytest.param("2024年10月22日 午前12時", jst(2024, 10, 22, 12), "午前12時", id="gozen-12"),
        pytest.param("2024年10月22日 午後12時", jst(2024, 10, 23), "午後12時", id="gogo-12"),
    ],
)
def test_readings_with_a_warning(
    text: str, value: datetime, fragment: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="crawler.dates"):
        found = parse_date(text)
    assert_same(found.value, value)
    assert any(fragment in w for w in found.warnings), found.warnings
    assert any(text in r.getMessage() for r in caplog.records)


def test_find_dates_logs_warnings_naming_the_input(caplog: pytest.LogCaptureFixture) -> None:
    text = "本文:平成31年5月1日に施行"
    with caplog.at_level(logging.WARNING, logger="crawler.dates"):
        (found,) = find_dates(text)
    assert found.warnings
    assert any(text in r.getMessage() and "平成" in r.getMessage() for r in caplog.records)


# --- Year inference --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reference", "expected", "warns"),
    [
        pytest.param("12月24日", REF, date(2025, 12, 24), False, id="just-before"),
        pytest.param("12月27日", REF, date(2025, 12, 27), False, id="next-day"),
        pytest.param("3月1日", REF, date(2025, 3, 1), False, id="months-before"),
        pytest.param("1月10日", REF, date(2026, 1, 10), False, id="new-year-ahead"),
        pytest.param("12月31日", jst(2026, 1, 3), date(2025, 12, 31), False, id="old-year-behind"),
        pytest.param("2月24日", REF, date(2026, 2, 24), False, id="window-edge-in"),
        pytest.param("2月25日", REF, date(2025, 2, 25), False, id="window-edge-out"),
        pytest.param("2月29日", jst(2025, 3, 1), date(2024, 2, 29), False, id="leap-day-last-year"),
        pytest.param("2月29日", jst(2026, 1, 10), date(2024, 2, 29), False, id="leap-day-two-back"),
        pytest.param("10月17日(金)", REF, date(2025, 10, 17), False, id="weekday-agrees"),
        pytest.param("10月17日(木)", REF, date(2024, 10, 17), True, id="weekday-one-back"),
        pytest.param("10月17日(火)", REF, date(2023, 10, 17), True, id="weekday-two-back"),
        pytest.param("1月10日(土)", REF, date(2026, 1, 10), False, id="weekday-ahead"),
        pytest.param("1月10日(金)", REF, date(2025, 1, 10), True, id="weekday-pulls-back"),
        pytest.param("3月15日(日)", REF, date(2026, 3, 15), True, id="weekday-event-ahead"),
        # 2025-12-20 was a Saturday: the weekday decides, 2026-12-20 is too far ahead
        pytest.param("12月20日(日)", REF, date(2020, 12, 20), True, id="weekday-five-back"),
        pytest.param("2月29日(木)", jst(2025, 6, 1), date(2024, 2, 29), False, id="leap-weekday"),
        pytest.param("2月29日(月)", jst(2025, 6, 1), date(2024, 2, 29), True, id="no-year-matches"),
    ],
)
def test_year_inference(text: str, reference: datetime, expected: date, warns: bool) -> None:
    found = parse_date(text, reference=reference)
    assert found.year_given is False
    assert_same(found.value, datetime.combine(expected, time(), JST))
    assert bool(found.warnings) is warns, found.warnings


def test_year_inference_reads_the_reference_in_tz() -> None:
    # 2025-12-31 20:00 UTC is already 2026-01-01 in Tokyo: 60 days on is 3月2日 in JST,
    # 3月1日 in UTC.
    reference = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    assert_same(parse_datetime("3月2日", reference=reference), jst(2026, 3, 2))
    assert_same(
        parse_datetime("3月2日", reference=reference, tz="UTC"),
        datetime(2025, 3, 2, tzinfo=UTC),
    )


def test_window_constants_are_what_the_docstring_says() -> None:
    assert YEARLESS_FUTURE_DAYS == 60
    assert WEEKDAY_SEARCH_YEARS == 6
    assert WEEKDAY_FUTURE_DAYS == 183
    assert MAX_FUTURE == timedelta(days=731)
    assert EARLIEST == date(1900, 1, 1)


def test_future_limit_is_relative_to_the_reference() -> None:
    assert_same(parse_datetime("2027年12月26日", reference=REF), jst(2027, 12, 26))
    with pytest.raises(DateParseError, match="implausibly far"):
        parse_datetime("2027年12月28日", reference=REF)
    # without a reference there is nothing to be far from
    assert_same(parse_datetime("2040年1月1日"), jst(2040, 1, 1))


def test_earliest_plausible_date() -> None:
    assert_same(parse_datetime("明治33年1月1日"), jst(1900, 1, 1))
    with pytest.raises(DateParseError, match="before 1900-01-01"):
        parse_datetime("1899年12月31日")


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param(datetime(2025, 12, 26, 12, 0), id="naive"),
        pytest.param(date(2025, 12, 26), id="date"),
        pytest.param("2025-12-26", id="string"),
    ],
)
def test_reference_must_be_an_aware_datetime(reference: object) -> None:
    with pytest.raises(TypeError, match="reference"):
        parse_datetime("2024年10月22日", reference=reference)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reference"):
        find_dates("2024年10月22日", reference=reference)  # type: ignore[arg-type]


def test_yearless_without_reference() -> None:
    with pytest.raises(DateParseError, match="no year and no reference") as exc:
        parse_datetime("10月17日(木)")
    assert "'10月17日(木)'" in str(exc.value)
    assert find_dates("10月17日(木)") == []  # find_dates skips what it cannot date


# --- Refusals --------------------------------------------------------------------------------

NO_DATE = [
    pytest.param("", None, id="empty"),
    pytest.param("  \n ", None, id="blank"),
    pytest.param("第5世代", None, id="generation"),
    pytest.param("1佐", None, id="rank"),
    pytest.param("陸自47名", None, id="count"),
    pytest.param("12月", REF, id="month-only"),
    pytest.param("2024年", None, id="year-only"),
    pytest.param("2024", None, id="year-digits-only"),
    pytest.param("2024年10月", None, id="year-month"),
    pytest.param("2024-10", None, id="numeric-year-month"),
    pytest.param("Oct 2024", None, id="english-month-year"),
    pytest.param("10/22", REF, id="numeric-month-day"),
    pytest.param("18:15", REF, id="time-only"),
    pytest.param("18時15分", REF, id="jp-time-only"),
    pytest.param("1.2.3", None, id="version"),
    pytest.param("令和6年度", None, id="fiscal-year"),
    pytest.param("2月30日", REF, id="feb-30"),
    pytest.param("2024年2月30日", None, id="feb-30-with-year"),
    pytest.param("2025年2月29日", None, id="feb-29-common-year"),
    pytest.param("13月1日", REF, id="month-13"),
    pytest.param("2024年4月31日", None, id="april-31"),
    pytest.param("2024-13-01", None, id="numeric-month-13"),
    pytest.param("2024-02-30", None, id="numeric-feb-30"),
    pytest.param("H31.4.31", None, id="short-april-31"),
    pytest.param("Tue, 32 Oct 2024 09:15:00 GMT", None, id="rfc-day-32"),
    pytest.param("24年10月22日", REF, id="two-digit-year"),
    pytest.param("令和6(2023)年10月18日", None, id="era-western-disagree"),
    pytest.param("令和6年(2023年)10月18日", None, id="era-western-after-disagree"),
    pytest.param("2025年(令和6年)9月17日", None, id="western-era-disagree"),
    pytest.param("令和元年4月30日", None, id="before-reiwa"),
    pytest.param("平成元年1月7日", None, id="before-heisei"),
    pytest.param("平成0年1月1日", None, id="era-year-0"),
    pytest.param("平成42年1月1日", None, id="era-overrun-too-far"),
    pytest.param("1899年12月31日", None, id="before-1900"),
    pytest.param("0024-10-22", None, id="year-24"),
    pytest.param("2028年1月1日", REF, id="far-future"),
    pytest.param("10月17日", None, id="yearless-no-reference"),
    pytest.param("2024年10月22日 24時", None, id="24ji"),
    pytest.param("2024-10-22 24:00", None, id="24-00"),
    pytest.param("2024-10-22T24:00:00", None, id="iso-24-00"),
    pytest.param("2024年10月22日 10時60分", None, id="minute-60"),
    pytest.param("2024年10月22日 午後13時", None, id="gogo-13"),
    pytest.param("2024年10月22日 午後12時30分", None, id="gogo-12-30-ambiguous"),
    pytest.param("October 22, 2024 13:30 PM", None, id="english-13-pm"),
    pytest.param("2024-10-22 10:00 CET", None, id="unknown-zone"),
    pytest.param("Tue, 22 Oct 2024 09:15:00 IST", None, id="ambiguous-zone"),
    pytest.param("2024/10/22 13:00 PM", None, id="numeric-13-pm"),
    pytest.param("٢٠٢٤-١٠-٢٢", None, id="arabic-indic-digits"),
    pytest.param("2月30日と12月24日", REF, id="first-date-invalid"),
]


@pytest.mark.parametrize(("text", "reference"), NO_DATE)
def test_no_date(text: str, reference: datetime | None) -> None:
    with pytest.raises(DateParseError) as exc:
        parse_datetime(text, reference=reference)
    assert isinstance(exc.value, ValueError)
    assert repr(text) in str(exc.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("第5世代", "no date"),
        ("2月30日", "no such date 2月30日"),
        ("令和6(2023)年10月18日", "令和6年 is 2024, not 2023"),
        ("令和元年4月30日", "before 令和 began on 2019-05-01"),
        ("2024-10-22 10:00 CET", "unknown time zone 'CET'"),
        ("2024年10月22日 24時", "not a time of day"),
        ("24年10月22日", "year 24年 is not understood"),
    ],
)
def test_refusals_say_why(text: str, message: str) -> None:
    with pytest.raises(DateParseError, match=message):
        parse_datetime(text, reference=REF)


def test_long_input_is_quoted_shortened() -> None:
    text = "あ" * 500
    with pytest.raises(DateParseError) as exc:
        parse_datetime(text)
    assert "あ" * 200 in str(exc.value) and len(str(exc.value)) < 300


def test_find_dates_skips_refused_expressions() -> None:
    found = find_dates("2月30日と12月24日、2028年1月1日、第5世代", reference=REF)
    assert [(f.raw, f.value) for f in found] == [("12月24日", jst(2025, 12, 24))]


def test_non_str_text_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_datetime(b"2024-10-22")  # type: ignore[arg-type]


# --- find_dates on titles and bodies --------------------------------------------------------


def test_find_dates_personnel_title() -> None:
    text = "人事発令 令和7年12月14日、15日付け"
    (found,) = find_dates(text)
    assert found.span == (5, 19)
    assert found.raw == "令和7年12月14日、15日"
    assert_same(found.value, jst(2025, 12, 14))
    assert found.also == (jst(2025, 12, 15),)
    assert found.year_given is True


def test_find_dates_title_with_event_date() -> None:
    text = "防衛省職員の給与・手当を改正する政令を公布(12月24日)"
    (found,) = find_dates(text, reference=REF)
    assert found.raw == "12月24日"
    assert text[found.start - 1] == "(" and text[found.end] == ")"
    assert_same(found.value, jst(2025, 12, 24))
    assert found.year_given is False


@pytest.mark.parametrize(
    ("title", "raw", "value"),
    [
        ("日米共同訓練の実施について(5月16日①)", "5月16日", jst(2025, 5, 16)),
        ("中国海軍艦艇の動向について(8月26日、長崎県男女群島沖)", "8月26日", jst(2025, 8, 26)),
        ("年頭の辞(2026年1月1日)", "2026年1月1日", jst(2026, 1, 1)),
    ],
)
def test_find_dates_in_ranking_titles(title: str, raw: str, value: datetime) -> None:
    (found,) = find_dates(title, reference=REF)
    assert found.raw == raw
    assert_same(found.value, value)


def test_find_dates_in_a_body() -> None:
    body = (
        "防衛省 統合幕僚監部は令和6(2024)年9月12日(木)、…を公表した。\n"
        "訓練は2025年(令和7年)9月17日(水)から12月21日・22日まで。\n"
        "第5世代戦闘機の1佐以下陸自47名が参加し、3日間で延べ100時間飛行した。\n"
        "会見は現地時間10月17日23時30分に始まった。"
    )
    found = find_dates(body, reference=REF)
    assert [f.raw for f in found] == [
        "令和6(2024)年9月12日(木)",
        "2025年(令和7年)9月17日(水)から12月21日・22日",
        "現地時間10月17日23時30分",
    ]
    assert [f.value for f in found] == [
        jst(2024, 9, 12),
        jst(2025, 9, 17),
        jst(2025, 10, 17, 23, 30),
    ]
    assert found[1].also == (jst(2025, 12, 21), jst(2025, 12, 22))
    assert [f.offset_known for f in found] == [True, True, False]
    for f in found:
        assert body[f.start : f.end] == f.raw
    assert [f.start for f in found] == sorted(f.start for f in found)


def test_spans_point_into_the_original_text_when_nfkc_changes_lengths() -> None:
    # ㍻ → 平成 and ⑴ → (1) are longer after NFKC; spans must still slice the original.
    text = "⑴㍻31年4月30日、⑵令和元年５月１日（水）"
    found = find_dates(text)
    assert [f.raw for f in found] == ["㍻31年4月30日", "令和元年５月１日（水）"]
    assert [f.span for f in found] == [(1, 10), (12, 23)]
    assert [f.value for f in found] == [jst(2019, 4, 30), jst(2019, 5, 1)]
    for f in found:
        assert text[f.start : f.end] == f.raw


def test_found_date_is_frozen() -> None:
    found = parse_date("2024-10-22 18:15")
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.value = REF  # type: ignore[misc]
    assert isinstance(found, FoundDate)


def test_find_dates_reads_a_long_body() -> None:
    # Speed is measured in bench/bench_dates.py, not asserted here.
    paragraph = (
        "防衛省は令和7(2025)年10月28日(火)08時57分~09時28分、記者会見を行った。"
        "12月21日・22日に訓練を行う。第5世代、1佐、陸自47名。２０２４年１０月２２日。"
        + "あいうえお漢字カタカナ" * 20
        + "\n"
    )
    found = find_dates(paragraph * 500, reference=REF)
    assert len(found) == 1500
    assert {f.value.date() for f in found} == {date(2025, 10, 28), date(2025, 12, 21), date(2024, 10, 22)}


@pytest.mark.parametrize(
    ("body", "count"),
    [
        pytest.param("2024" + " " * 50000 + "年", 0, id="spaces"),
        pytest.param("1" * 50000, 0, id="digits"),
        pytest.param("12月" * 20000, 0, id="months"),
        pytest.param("令和" * 20000, 0, id="eras"),
        pytest.param("１２月３日、" * 10000, 1, id="list"),
    ],
)
def test_adversarial_inputs_give_the_right_answer(body: str, count: int) -> None:
    # Inputs that make a backtracking regex explode; their timings are in bench/bench_dates.py.
    assert len(find_dates(body, reference=REF)) == count


# --- Properties --------------------------------------------------------------------------------

# Hard-coded here (not taken from japanera) so the era styles are an independent oracle.
ERA_STARTS = [
    (date(2019, 5, 1), "令和", "R"),
    (date(1989, 1, 8), "平成", "H"),
    (date(1926, 12, 25), "昭和", "S"),
]
WEEKDAYS_JA = "月火水木金土日"
MONTHS_EN = (
    "January February March April May June July August September October November December".split()
)
FULLWIDTH = str.maketrans("0123456789()~:-", "０１２３４５６７８９（）～：－")


def era_of(d: date) -> tuple[str, str, str]:
    for start, name, letter in ERA_STARTS:
        if d >= start:
            n = d.year - start.year + 1
            return name, letter, "元" if n == 1 else str(n)
    raise AssertionError(d)


def ampm(t: datetime) -> str:
    if t.hour < 12:
        return f"午前{t.hour}時{t.minute}分"
    return f"午後{t.hour - 12}時{t.minute}分"


def minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def midnight(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


# (style name, format function, expected value) for a JST datetime
STYLES: dict[str, tuple[Callable[[datetime], str], Callable[[datetime], datetime]]] = {
    "iso": (lambda t: t.isoformat(), lambda t: t),
    "iso-z": (
        lambda t: t.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        lambda t: t.astimezone(UTC),
    ),
    "dateline": (lambda t: f"{t.year}-{t.month}-{t.day} {t:%H:%M}", minute),
    "slash": (lambda t: f"{t:%Y/%m/%d}", midnight),
    "dot": (lambda t: f"{t.year}.{t.month}.{t.day}", midnight),
    "rfc822": (lambda t: email.utils.format_datetime(t), lambda t: t.replace(microsecond=0)),
    "rfc822-gmt": (
        lambda t: email.utils.format_datetime(t.astimezone(UTC), usegmt=True),
        lambda t: t.replace(microsecond=0).astimezone(UTC),
    ),
    "english": (
        lambda t: (
            f"{MONTHS_EN[t.month - 1]} {t.day}, {t.year} {(t.hour - 1) % 12 + 1}:{t:%M} "
            + ("AM" if t.hour < 12 else "PM")
        ),
        minute,
    ),
    "jp": (
        lambda t: (
            f"{t.year}年{t.month}月{t.day}日({WEEKDAYS_JA[t.weekday()]}){t.hour}時{t.minute}分{t.second}秒"
        ),
        lambda t: t.replace(microsecond=0),
    ),
    "jp-colon": (lambda t: f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}", minute),
    "jp-ampm": (lambda t: f"{t.year}年{t.month}月{t.day}日{ampm(t)}", minute),
    "jp-fullwidth": (
        lambda t: f"{t.year}年{t.month}月{t.day}日({WEEKDAYS_JA[t.weekday()]}){t:%H:%M}".translate(
            FULLWIDTH
        ),
        minute,
    ),
    "era": (
        lambda t: "{0}{2}年{m}月{d}日({w}){h}時{mi:02d}分".format(
            *era_of(t.date()), m=t.month, d=t.day, w=WEEKDAYS_JA[t.weekday()], h=t.hour, mi=t.minute
        ),
        minute,
    ),
    "era-western": (
        lambda t: "{0}{2}({y})年{m}月{d}日".format(*era_of(t.date()), y=t.year, m=t.month, d=t.day),
        midnight,
    ),
    "western-era": (
        lambda t: "{y}年({0}{2}年){m}月{d}日".format(
            *era_of(t.date()), y=t.year, m=t.month, d=t.day
        ),
        midnight,
    ),
    "short-era": (
        lambda t: "{1}{2}.{m}.{d}".format(*era_of(t.date()), m=t.month, d=t.day),
        midnight,
    ),
}

# Japan has kept one offset since 1952 (it had summer time 1948-1951).
jst_datetimes = st.datetimes(
    min_value=datetime(1953, 1, 1), max_value=datetime(2098, 12, 31), timezones=st.just(JST)
)
offset_datetimes = st.builds(
    lambda naive, minutes: naive.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1953, 1, 1), max_value=datetime(2098, 12, 31)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(t=jst_datetimes, style=st.sampled_from(sorted(STYLES)))
def test_formatted_datetime_parses_back(t: datetime, style: str) -> None:
    fmt, expected = STYLES[style]
    text = fmt(t)
    assert_same(parse_datetime(text), expected(t))


@PROPERTY
@given(t=offset_datetimes, style=st.sampled_from(["iso", "rfc822"]))
def test_explicit_offsets_parse_back(t: datetime, style: str) -> None:
    text = t.isoformat() if style == "iso" else email.utils.format_datetime(t)
    expected = t if style == "iso" else t.replace(microsecond=0)
    assert_same(parse_datetime(text), expected)


@PROPERTY
@given(
    t=jst_datetimes,
    days_after=st.integers(min_value=-YEARLESS_FUTURE_DAYS, max_value=300),
    weekday=st.booleans(),
)
def test_yearless_date_near_its_reference_parses_back(
    t: datetime, days_after: int, weekday: bool
) -> None:
    reference = datetime.combine(t.date() + timedelta(days=days_after), time(12), JST)
    wd = f"({WEEKDAYS_JA[t.weekday()]})" if weekday else ""
    found = parse_date(f"{t.month}月{t.day}日{wd} {t:%H:%M}", reference=reference)
    assert_same(found.value, minute(t))
    assert found.year_given is False
    assert found.warnings == ()


@PROPERTY
@given(t=st.one_of(jst_datetimes, offset_datetimes), style=st.sampled_from(sorted(STYLES)))
def test_parsing_is_idempotent_on_its_iso_output(t: datetime, style: str) -> None:
    fmt, _ = STYLES[style]
    t = t.astimezone(JST)
    value = parse_datetime(fmt(t))
    assert_same(parse_datetime(value.isoformat()), value)
    assert_same(parse_datetime(value.isoformat(sep=" ")), value)


@PROPERTY
@given(t=jst_datetimes)
def test_fullwidth_text_reads_like_ascii(t: datetime) -> None:
    text = f"{t.year}-{t.month:02d}-{t.day:02d} {t:%H:%M}"
    assert_same(parse_datetime(text.translate(FULLWIDTH)), parse_datetime(text))


DATEISH = st.text(
    alphabet=st.sampled_from(
        list(
            "0123456789０１２３年月日時分秒()（）:~〜、・-/.T Z+令和平成昭元RHS午前後現地時間火水木金土日曜祝GMTJSTOct,㍻⑴"
        )
    ),
    max_size=40,
)


@PROPERTY
@given(text=st.one_of(DATEISH, st.text(max_size=40)), with_ref=st.booleans())
def test_naive_never_comes_out(text: str, with_ref: bool) -> None:
    reference = REF if with_ref else None
    found = find_dates(text, reference=reference)
    last_end = 0
    for f in found:
        assert f.value.utcoffset() is not None
        assert all(a.utcoffset() is not None for a in f.also)
        assert 0 <= last_end <= f.start < f.end <= len(text)
        assert text[f.start : f.end] == f.raw
        last_end = f.end
    try:
        value = parse_datetime(text, reference=reference)
    except DateParseError:
        return
    assert value.utcoffset() is not None
    assert found and value == found[0].value


# -- issue #8: dates the site writes that were missed ------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "others"),
    [
        ("人事発令 令和7年12月14日、15日付け、1佐職人事", date(2025, 12, 14), [date(2025, 12, 15)]),
        ("人事発令 令和7年12月21日・22日付け、1佐職人事", date(2025, 12, 21), [date(2025, 12, 22)]),
        ("12月21日・22日付け", date(2025, 12, 21), [date(2025, 12, 22)]),
    ],
    ids=["comma", "nakaguro", "no-year"],
)
def test_day_enumerations_mean_every_day(text: str, first: date, others: list[date]) -> None:
    (found,) = find_dates(text, reference=REF)
    assert found.value.date() == first
    assert [d.date() for d in found.also] == others


@pytest.mark.parametrize(
    ("text", "expected", "raw"),
    [
        ("十二月三日", date(2025, 12, 3), "十二月三日"),
        ("令和七年十二月三日(水)に公表", date(2025, 12, 3), "令和七年十二月三日(水)"),
        ("二〇二五年十一月二十九日", date(2025, 11, 29), "二〇二五年十一月二十九日"),
        ("令和六年九月三十日", date(2024, 9, 30), "令和六年九月三十日"),
    ],
    ids=["month-day", "era", "digit-by-digit", "thirty"],
)
def test_kanji_numerals(text: str, expected: date, raw: str) -> None:
    (found,) = find_dates(text, reference=REF)
    assert found.value.date() == expected
    assert found.raw == raw  # the span points into the original text


def test_kanji_words_that_are_not_dates_stay_words() -> None:
    assert find_dates("一時的に十分な体制をとる", reference=REF) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本日、防衛省は", datetime(2025, 12, 26, tzinfo=JST)),
        ("今日", datetime(2025, 12, 26, tzinfo=JST)),
        ("昨日10時30分", datetime(2025, 12, 25, 10, 30, tzinfo=JST)),
        ("同日午後2時", datetime(2025, 12, 26, 14, 0, tzinfo=JST)),
        ("一昨日", datetime(2025, 12, 24, tzinfo=JST)),
        ("翌日", datetime(2025, 12, 27, tzinfo=JST)),
    ],
    ids=["honjitsu", "kyou", "kinou-time", "doujitsu-pm", "ototoi", "yokujitsu"],
)
def test_relative_days_against_the_reference(text: str, expected: datetime) -> None:
    found = parse_date(text, reference=REF)
    assert found.value == expected
    assert not found.year_given


def test_relative_days_need_a_reference() -> None:
    assert find_dates("本日") == []
    with pytest.raises(DateParseError, match="needs a reference"):
        parse_date("本日")
