"""A year written with leading zeros (0001) is before EARLIEST: never read as 2001."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.dates import DateParseError, parse_date

REF = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    ["Mon, 01 Jan 0001 00:00:00 +0000", "01 Jan 0001 00:00:00 GMT", "22 Oct 0024 09:00 GMT",
     "0001-01-01T00:00:00Z", "0001年1月1日"],
    ids=["rfc822", "rfc822-no-weekday", "year-0024", "iso", "japanese"],
)
def test_zero_padded_year_is_refused(raw):
    with pytest.raises(DateParseError, match="before 1900-01-01"):
        parse_date(raw, reference=REF)


@pytest.mark.parametrize(
    ("raw", "year"),
    [("Mon, 01 Jan 2001 00:00:00 +0000", 2001), ("Tue, 22 Oct 2024 09:00:00 +0900", 2024),
     ("Tue, 22 Oct 2024 09:00:00 -0000", 2024)],
    ids=["2001", "offset", "zero-offset"],
)
def test_four_digit_years_and_offsets_are_read(raw, year):
    assert parse_date(raw, reference=REF).value.year == year
