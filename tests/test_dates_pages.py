"""crawler.dates.read_page_date: the dates of any site's pages (issue 19, point 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.dates import DateParseError, read_page_date


@pytest.mark.parametrize(
    ("text", "lang", "day"),
    [
        ("09.08.2013", "de", "2013-08-09"),  # dotted: day first
        ("09/08/2013", "fr", "2013-08-09"),
        ("09/08/2013", "en-US", "2013-09-08"),  # the US writes the month first
        ("25/12/2020", "en-US", "2020-12-25"),  # only one reading is valid
        ("9. August 2013", "de", "2013-08-09"),
        ("14 juin 2021", "fr", "2021-06-14"),
        ("3 de marzo de 2022", "es", "2022-03-03"),
        ("12 ottobre 2019", "it", "2019-10-12"),
        ("5 de janeiro de 2020", "pt", "2020-01-05"),
        ("22 октября 2024", "ru", "2024-10-22"),
        ("October 22, 2024", "en", "2024-10-22"),
        ("Mittwoch, 3. Januar 2024", "de", "2024-01-03"),
    ],
)
def test_day_first_numerals_and_month_names(text: str, lang: str, day: str) -> None:
    found = read_page_date(text, lang=lang)
    assert found.iso() == day
    assert found.precision == "day"


def test_a_date_only_value_keeps_its_precision_and_invents_no_time() -> None:
    found = read_page_date("2024-10-22")
    assert found.precision == "day"
    assert found.iso() == "2024-10-22"
    assert (found.value.hour, found.value.minute) == (0, 0)


@pytest.mark.parametrize(
    ("text", "offset_hours"),
    [
        ("14 juin 2021 à 18h05 CEST", 2),
        ("9. August 2013, 14:30 Uhr MESZ", 2),
        ("Tue, 22 Oct 2024 09:15:00 BST", 1),
        ("October 22, 2024 3:30 PM EDT", -4),
        ("2024-10-22T09:15:00+05:30", 5.5),
        ("22.10.2024 23:40 CET", 1),
    ],
)
def test_zone_abbreviations_and_the_pages_own_offset(text: str, offset_hours: float) -> None:
    found = read_page_date(text)
    assert found.offset_known
    assert found.value.utcoffset() == timedelta(hours=offset_hours)


def test_the_day_shown_is_the_pages_day_not_utc() -> None:
    # 23:40 in Paris is already the next day in Tokyo and the same day in UTC-free terms.
    found = read_page_date("2024-10-22T23:40:00+02:00")
    assert found.iso().startswith("2024-10-22T23:40")
    assert found.value.date().isoformat() == "2024-10-22"


def test_jst_only_on_a_japanese_site_without_a_zone() -> None:
    jp = read_page_date("2024-10-22 18:15", japanese=True)
    assert jp.value.tzinfo == ZoneInfo("Asia/Tokyo") and jp.offset_known
    other = read_page_date("2024-10-22 18:15")
    assert other.value.utcoffset() == timedelta(0) and not other.offset_known
    assert other.value.hour == 18  # the wall time the page shows is kept


def test_japanese_dates_and_nhks_yearless_date_line() -> None:
    assert read_page_date("2024年10月22日 18時15分", japanese=True).iso() == "2024-10-22T18:15+09:00"
    reference = datetime(2024, 7, 1, tzinfo=UTC)
    nhk = read_page_date("[06月24日 11時30分]", japanese=True, reference=reference)
    assert nhk.iso() == "2024-06-24T11:30+09:00"


@pytest.mark.parametrize("text", ["", "hello", "31.02.2024", "32 August 2020"])
def test_no_date(text: str) -> None:
    with pytest.raises(DateParseError):
        read_page_date(text)


@pytest.mark.parametrize(
    ("text", "lang", "minute"),
    [
        # The time set in an element of its own loses the space before it: "2023<span>14:03"
        ("6. November 202314:03 Uhr", "de", "2023-11-06T14:03"),
        ("November 8, 202311:15 PM", "en", "2023-11-08T23:15"),
        ("24.01.202214:45", "de", "2022-01-24T14:45"),
    ],
)
def test_a_clock_glued_to_the_year_is_the_time_not_more_year(
    text: str, lang: str, minute: str
) -> None:
    found = read_page_date(text, lang=lang)
    assert found.value.strftime("%Y-%m-%dT%H:%M") == minute
    assert found.precision == "minute"


@pytest.mark.parametrize("text", ["November 202314", "6. November 20231", "November 2023"])
def test_digits_run_on_from_a_year_are_not_a_day_and_a_year(text: str) -> None:
    # "November 202314" once read as November 20 of the year 2314
    with pytest.raises(DateParseError):
        read_page_date(text, lang="en")


def test_a_month_day_and_year_need_a_separator_between_day_and_year() -> None:
    assert read_page_date("November 20, 2023").iso() == "2023-11-20"
    assert read_page_date("November 20 2023").iso() == "2023-11-20"
    assert read_page_date("November 20,2023").iso() == "2023-11-20"


def test_seconds_of_one_digit_keep_the_time_and_zone() -> None:
    # "23:15:0Z": a template that forgot to pad the seconds; read as the bare day, the
    # instant lost its zone and the date line's local day could not be given to it
    found = read_page_date("2020-12-05T23:15:0Z")
    assert found.value == datetime(2020, 12, 5, 23, 15, tzinfo=UTC)
    assert found.offset_known and found.precision == "minute"
