"""Every date and time defnews reads goes through here, and comes out timezone-aware.

Public API::

    parse_datetime(text, *, reference=None, tz="Asia/Tokyo") -> datetime
    parse_date(text, *, reference=None, tz="Asia/Tokyo") -> FoundDate
    find_dates(text, *, reference=None, tz="Asia/Tokyo") -> list[FoundDate]

``parse_datetime``/``parse_date`` read the date a string *is* (a date line, a feed field, a
lead): the first date expression in it decides, and if that expression is not a valid date the
call raises :class:`DateParseError` rather than looking further. ``find_dates`` scans free text
(titles, bodies) and returns every valid date expression in order; expressions that are refused
are skipped (logged at DEBUG level with the reason).

Who does what
-------------
* python-dateutil parses the formats it knows: ISO 8601 (``isoparse``), RFC 822/2822 and
  English month names, numeric ``2025-3-5 09:33`` / ``2025/03/05`` / ``2025.3.5``. Our regexes
  only *locate* those expressions (dateutil's fuzzy mode gives no spans and fills missing
  fields from "today": ``"Oct 2024"`` → 2024-10-<today>), check that year, month and day are
  all written, and hand the matched substring to dateutil with a ``tzinfos`` callable, so the
  result never depends on the machine's local zone (dateutil maps a zone name that appears in
  ``time.tzname`` to ``tzlocal()`` otherwise).
* japanera supplies the era table: the exact first day and (exclusive) end of 明治..令和 and
  the era-year arithmetic. Its parser is not used, because (evaluated on 2.1.3): it is
  format-string driven (one format per variant; no search in free text, no spans); ``%-Y``
  is read as a Gregorian year by ``strptime`` although ``strftime`` writes the era year, so
  ``令和6年10月18日`` does not parse with it; full-width digits are not accepted; it has no
  one-kanji short form (``令6.10.18``); and ``EraDate`` reports a date past its era's end with
  ``warnings.warn(RuntimeWarning)``, which our test setup turns into an error and which is not
  our policy (we keep the date and record a warning on the result).
* Written by hand, because no library on PyPI covers it: the Japanese grammar (``年月日``,
  weekdays ``(火)``/``(火曜日)``/``(月・祝)``, ``時分秒``, ``午前``/``午後``/``正午``/``半``,
  era years with a Gregorian year in brackets either way round, ``R6.10.18``/``令6.10.18``,
  ranges and lists ``12月21日・22日`` / ``11時~11時38分``, the ``(現地時間)`` marker) and the
  inference of a missing year.

Decisions
---------
* Input is NFKC-normalized before matching (full-width digits, brackets, colon, tilde, space;
  ``㍻`` → ``平成``). NFKC is applied character by character with an index map, so spans and
  ``raw`` always refer to the *original* text even where a character changes length
  (``㍻``, ``㋿``, ``⑴``, ``㈰``).
* Naive input is wall time in ``tz`` (default JST, as ``ZoneInfo``); an explicit ``Z``,
  ``+0900``, ``+09:00``, ``GMT``/``UT``/``UTC``, the RFC 822 US zones or ``JST``/``KST`` is
  honoured (fixed ``datetime.timezone`` offsets; ``JST`` → ``ZoneInfo("Asia/Tokyo")``). A zone
  abbreviation we do not know (``CET``, ``IST``...) is refused rather than guessed.
  ``(日本時間)`` means Asia/Tokyo whatever ``tz`` is.
* ``(現地時間)``/``(現地時刻)``/``(現地)``, a prefix ``現地時間``, and a bracketed foreign zone
  name ending in ``時間`` (``(米東部時間)``) mark a foreign local time: the wall time is kept,
  attached to ``tz`` only as a placeholder, and ``offset_known`` is False.
* ``reference`` must be an aware datetime (``TypeError`` otherwise). Without it, a date
  written without a year is refused ("no year and no reference"), and there is no upper bound.
* Year of a yearless date: among the years around the reference, the one that puts the date
  nearest to the reference's day (in ``tz``), but never more than ``YEARLESS_FUTURE_DAYS``
  (60) days after it (announcements of planned events). With a
  weekday, the weekday decides: the date nearest to the reference whose weekday matches,
  from ``WEEKDAY_SEARCH_YEARS`` (6) years before it to ``WEEKDAY_FUTURE_DAYS`` (183) days
  after it (an event announced months ahead with its weekday; a weekday is a strong hint,
  but not beyond half a year); a warning is added when that is not the year the date alone
  would get. If no date in that window matches, the plain nearest year is used, with a
  warning (a weekday typo).
* A wrong weekday on a date that has a year: the written date is kept, with a warning.
* Plausibility: nothing before ``EARLIEST`` (1900-01-01); with a reference, nothing more than
  ``MAX_FUTURE`` (731 days, about two years) after it. Year-only and month-only strings
  (``2024年``, ``12月``, ``2024年10月``, ``Oct 2024``) are not dates. Two-digit or
  unknown years (``24年10月22日``, ``24年`` with no era) are refused, not guessed.
* Eras: boundaries are exact (平成31年4月30日 is 平成's last day, 令和元年5月1日 the first of
  令和). A date past its era's end (平成31年5月1日, 平成32年) is read as the same calendar day with
  a warning, up to ``ERA_OVERRUN_YEARS`` (10) era years past the last one; a date before its
  era's start (令和元年4月30日) is refused. ``令和6(2024)年`` and ``2025年(令和7年)`` must agree.
  Short forms: ``R``/``H``/``S`` and ``令``/``平``/``昭`` followed by ``y.m.d`` (also ``/``, ``-``).
* Times: ``18時`` is 18:00, ``10時半`` 10:30, ``正午`` 12:00. ``24時``/``24:00`` and minutes or
  seconds over 59 are refused. ``午前0時`` is 00:00 and ``午後0時`` 12:00. ``午前12時`` and
  ``午後12時`` follow the 1872 decree (明治5年太政官達第337号) — noon and the midnight that
  ends the day (00:00 of the next day) — each with a warning because readers disagree; with
  minutes (``午後12時30分``) they are refused as ambiguous. ``午後13時`` is refused.
* Ranges and lists: the value is the first date. ``also`` holds the follow-ups that borrow
  their year (and month) from it, as written, not expanded: days (``・22日``, ``、15日``,
  ``~22日``, ``から22日``), month-days (``~1月4日``, rolling into the next year), and the end
  time of a time range (``15時00分~17時30分`` → the same day 17:30; an end before the start
  is the next day); a day before the previous one rolls into the next month
  (``11月30日~2日``). A follow-up with its own year is a separate date of its own. A
  follow-up that is not valid ends the expression before it, with a warning; a count or
  duration after a list separator (``、1日あたり``, ``、3日間``) is not a day.
* Warnings (wrong weekday, past an era's end, 午前/午後12時, a weekday that moved the year)
  are on ``FoundDate.warnings`` and logged with ``logger.warning`` naming the input.
* Not read: RFC 822 two-digit years, asctime and RFC 850 forms, numeric month/day without a
  year (``10/22``: month or day first?), kanji numerals (``十二月二十四日``), and relative
  dates (``昨日``, ``3日前``).
"""

from __future__ import annotations

import calendar
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import parser as _dateutil_parser

# japanera: only its era table (see the module docstring for why not its parser).
from japanera import ERA_DATA_GENERAL  # type: ignore[import-untyped]  # no py.typed

__all__ = [
    "EARLIEST",
    "ERA_OVERRUN_YEARS",
    "MAX_FUTURE",
    "WEEKDAY_FUTURE_DAYS",
    "WEEKDAY_SEARCH_YEARS",
    "YEARLESS_FUTURE_DAYS",
    "DateParseError",
    "FoundDate",
    "find_dates",
    "PageDate",
    "parse_date",
    "read_page_date",
    "parse_datetime",
]

logger = logging.getLogger(__name__)

# --- Tunables ------------------------------------------------------------------------------

#: A yearless date may fall at most this many days after the reference (planned events).
YEARLESS_FUTURE_DAYS = 60
#: How many years back a weekday may move a yearless date to make it match...
WEEKDAY_SEARCH_YEARS = 6
#: ... and how many days after the reference (an announced event with its weekday).
WEEKDAY_FUTURE_DAYS = 183
#: A date further than this after the reference is implausible and refused.
MAX_FUTURE = timedelta(days=731)
#: Nothing earlier is a plausible date for news.
EARLIEST = date(1900, 1, 1)
#: How many era years past an era's last year a date may be written (forms printed before
#: an era change say 平成32年) before it is refused.
ERA_OVERRUN_YEARS = 10

# --- Public types --------------------------------------------------------------------------


class DateParseError(ValueError):
    """The text holds no date, or its date is impossible or implausible. Quotes the input."""


@dataclass(frozen=True)
class FoundDate:
    start: int  # span in the searched (original, not normalized) text
    end: int
    raw: str  # text[start:end]
    value: datetime  # always aware
    year_given: bool  # False when the year was inferred from `reference`
    time_given: bool
    weekday_given: bool
    offset_known: bool  # False for (現地時間): wall time attached to `tz` as a placeholder
    warnings: tuple[str, ...] = ()
    also: tuple[datetime, ...] = ()  # the other dates of a range/list, same tzinfo as value

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


# --- Era table (japanera) ------------------------------------------------------------------

_MODERN_ERAS = ("明治", "大正", "昭和", "平成", "令和")
_ERAS = {era.kanji: era for era in ERA_DATA_GENERAL if era.kanji in _MODERN_ERAS}
if len(_ERAS) != len(_MODERN_ERAS):  # pragma: no cover - guards a japanera data change
    raise ImportError(f"japanera era table lacks some of {_MODERN_ERAS}")
# Short forms: the English initial (R, H, S, T, M) and the first kanji (令, 平, 昭, 大, 明).
_ERA_BY_ABBREV = {era.english_head: era for era in _ERAS.values()} | {
    name[0]: era for name, era in _ERAS.items()
}

# --- Zones ---------------------------------------------------------------------------------

_TOKYO = "Asia/Tokyo"
# RFC 822 zone names (fixed offsets by definition) plus the East Asian ones our sources use.
_ZONE_HOURS = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "KST": 9,
}  # fmt: skip
# Looks like a zone abbreviation (CET, CEST, BST, IST, HKT, AEST...): refuse rather than guess.
_ZONE_LIKE = re.compile(r"[A-Z]{1,4}T")


def _known_zone(name: str) -> bool:
    return name.upper() in _ZONE_HOURS or name.upper() == "JST"


def _zone_for_name(name: str) -> tzinfo:
    key = name.upper()
    if key == "JST":
        return ZoneInfo(_TOKYO)
    hours = _ZONE_HOURS[key]
    return UTC if hours == 0 else timezone(timedelta(hours=hours), key)


def _fixed_zone(offset: timedelta) -> tzinfo:
    return UTC if not offset else timezone(offset)


# --- Normalization -------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _nfkc_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)


_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                 "七": 7, "八": 8, "九": 9}  # fmt: skip
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
# Kanji numerals of a date (十二月三日, 令和七年, 二〇二五年): only before 年/月/日, so that
# 一時的 or 十分な stay words.
_KANJI_NUMBER = re.compile(r"[〇零一二三四五六七八九十百千]+(?=[ \t]{0,3}[年月日])")


def _kanji_value(numeral: str) -> int:
    """十二 → 12, 二十三 → 23, 三十一 → 31, 二〇二五 → 2025 (digit by digit without units)."""
    if not any(ch in _KANJI_UNITS for ch in numeral):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in numeral))
    total = current = 0
    for ch in numeral:
        if ch in _KANJI_UNITS:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[ch]
    return total + current


def _kanji_numerals(norm: str, origin: list[int] | None) -> tuple[str, list[int] | None]:
    """Kanji numerals before 年/月/日 as Arabic digits, the index map kept."""
    if not _KANJI_NUMBER.search(norm):
        return norm, origin
    index = origin if origin is not None else list(range(len(norm)))
    parts: list[str] = []
    new_origin: list[int] = []
    pos = 0
    for m in _KANJI_NUMBER.finditer(norm):
        parts.append(norm[pos : m.start()])
        new_origin.extend(index[pos : m.start()])
        digits = str(_kanji_value(m.group(0)))
        parts.append(digits)
        new_origin.extend([index[m.start()]] * (len(digits) - 1) + [index[m.end() - 1]])
        pos = m.end()
    parts.append(norm[pos:])
    new_origin.extend(index[pos:])
    return "".join(parts), new_origin


def _normalize(text: str) -> tuple[str, list[int] | None]:
    """NFKC per character (and kanji date numerals as digits), with the original index of
    every normalized character.

    The map is None when every character keeps its length (normalized index == original).
    """
    norm, origin = _normalize_nfkc(text)
    return _kanji_numerals(norm, origin)


def _normalize_nfkc(text: str) -> tuple[str, list[int] | None]:
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, None
    parts: list[str] = []
    origin: list[int] = []
    same_length = True
    for i, ch in enumerate(text):
        n = _nfkc_char(ch)
        parts.append(n)
        if len(n) != 1:
            same_length = False
        origin.extend([i] * len(n))
    return "".join(parts), None if same_length else origin


# --- Grammar ---------------------------------------------------------------------------------
# Written by hand: no PyPI library reads these Japanese forms in free text with spans
# (dateutil knows no Japanese; japanera needs one exact format per variant, see above).
# The Western patterns only locate expressions; dateutil reads them.

_S = r"[ \t]{0,3}"  # spaces between tokens (after NFKC, U+3000 and NBSP are plain spaces)
_ERA_NAME = "|".join(_MODERN_ERAS)
_WEEKDAY_CHARS = "月火水木金土日"


def _weekday_pat(p: str) -> str:
    """(火) (火曜日) (月・祝) (祝) or a bare 火曜(日)."""
    return (
        rf"(?:{_S}\({_S}(?P<{p}wd>[{_WEEKDAY_CHARS}])(?:曜日?)?(?:{_S}[・,、/]?{_S}(?:祝日?|休日|振休|振替休日))?{_S}\)"
        rf"|{_S}\({_S}(?:祝日?|休日|振休|振替休日){_S}\)"
        rf"|{_S}(?P<{p}wdb>[{_WEEKDAY_CHARS}])曜日?)"
    )


def _time_pat(p: str) -> str:
    """18時 18時15分 18時15分30秒 10時半 正午 18:15 18:15:30, optionally after 午前/午後."""
    return (
        rf"(?:(?P<{p}ampm>午前|午後){_S})?"
        rf"(?:(?P<{p}noon>正午)"
        rf"|(?P<{p}h>\d{{1,2}}){_S}時(?!間)"
        rf"(?:{_S}(?:(?P<{p}half>半)|(?P<{p}mi>\d{{1,2}}){_S}分(?:{_S}(?P<{p}s>\d{{1,2}}){_S}秒)?))?"
        rf"|(?P<{p}hc>\d{{1,2}}):(?P<{p}mc>\d{{2}})(?::(?P<{p}sc>\d{{2}}))?(?![\d:]))"
    )


_ERA_YEAR = r"(?:元|\d{1,2})"

# 2024年10月22日(火)18時15分, 令和6(2024)年..., 令和6年(2024年)..., 2025年(令和7年)...,
# 2024(令和6)年..., and the yearless 10月17日(木).
_JP = re.compile(
    rf"""
    (?<![\d.年])
    (?:
        (?:
            (?P<era>{_ERA_NAME}){_S}(?P<eray>{_ERA_YEAR}){_S}
            (?:\({_S}(?P<eraw>\d{{4}}){_S}年?{_S}\){_S})?
            年
            (?:{_S}\({_S}(?P<eraw2>\d{{4}}){_S}年?{_S}\))?
          | (?P<wy>\d{{4}}){_S}
            (?:\({_S}(?P<wera>{_ERA_NAME}){_S}(?P<weray>{_ERA_YEAR}){_S}年?{_S}\){_S})?
            年
            (?:{_S}\({_S}(?P<wera2>{_ERA_NAME}){_S}(?P<weray2>{_ERA_YEAR}){_S}年?{_S}\))?
          | (?P<badyear>\d{{1,3}}|\d{{5,}}){_S}年
        )
        {_S}
    )?
    (?P<m>\d{{1,2}}){_S}月{_S}(?P<d>\d{{1,2}}){_S}日(?!間)
    (?:{_weekday_pat("")})?
    (?:{_S}{_time_pat("")})?
    """,
    re.VERBOSE | re.ASCII,
)

# R6.10.18 令6.10.18 H31.4.30 S64.1.7 (also with / or -)
_SHORT_ERA = re.compile(
    rf"""
    (?:(?<![A-Za-z\d.])(?P<lat>[RHS])|(?<![\d.\u3400-\u9fff])(?P<kan>[令平昭]))
    (?P<y>{_ERA_YEAR})(?P<sep>[./-])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})(?![\d.])
    (?:{_weekday_pat("")})?
    (?:{_S}{_time_pat("")})?
    """,
    re.VERBOSE | re.ASCII,
)

_ZONE_TOKEN = r"Z|[A-Z]{2,5}"

# 2024-10-22 18:15, 2025-3-5 09:33, 2025/03/05(水) 10:00, 2025.3.5, ISO 8601 with offset.
_WESTERN = re.compile(
    rf"""
    (?<![\d./-])
    (?P<date>(?P<y>\d{{4}})(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}))(?!\d)
    (?:{_weekday_pat("")})?
    (?:
        (?:(?P<T>T)|[ \t]{{1,3}}|(?<=\))[ \t]{{0,3}})
        # (seconds of one digit, "23:15:0Z": a template that forgot to pad them)
        (?P<time>(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{1,2}})(?:[.,]\d{{1,9}})?)?
          (?:[ \t]{{0,3}}(?P<ap>[AaPp]\.?[Mm]\.?)(?![A-Za-z]))?)(?![\d:])
        (?:
            (?P<zatt>Z|[+-]\d{{2}}(?::?\d{{2}})?)(?![\d:])
          | [ \t]{{1,3}}(?P<zsp>[+-]\d{{2}}:?\d{{2}}|{_ZONE_TOKEN})(?![A-Za-z\d])
        )?
    )?
    """,
    re.VERBOSE | re.ASCII,
)

_EN_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![A-Za-z])"
)
_EN_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EN_WEEKDAY = (
    r"(?i:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\.?(?![A-Za-z])"
)

# Tue, 22 Oct 2024 09:15:00 GMT / +0900 / JST;  October 22, 2024 3:30 PM
_ENGLISH = re.compile(
    rf"""
    (?<![A-Za-z\d])
    (?P<wdpart>(?P<wd>{_EN_WEEKDAY}),?[ \t]{{1,3}})?
    (?:
        (?P<d1>\d{{1,2}})[ \t]{{1,3}}{_EN_MONTH}[ \t]{{1,3}}
      | {_EN_MONTH}[ \t]{{1,3}}(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]{{1,3}}
    )
    (?P<y>\d{{4}})(?!\d)
    (?:
        ,?[ \t]{{1,3}}(?:at[ \t]{{1,3}})?
        (?P<time>(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}}))?
          (?:[ \t]{{0,3}}(?P<ap>[AaPp]\.?[Mm]\.?)(?![A-Za-z]))?)(?![\d:])
        (?:[ \t]{{0,3}}(?P<zone>[+-]\d{{2}}:?\d{{2}}|{_ZONE_TOKEN})(?![A-Za-z\d]))?
    )?
    """,
    re.VERBOSE | re.ASCII,
)

# What may follow a date: a range (~, -, から) or a list (・, 、, と, 及び).
_CONT_SEP = re.compile(
    rf"{_S}(?:(?P<range>[~∼〜\-‐‑–—−]|から)|(?P<list>[・,、]|と|及び|および)){_S}", re.ASCII
)
# A bare "N日" after a list separator is often a duration or count (、1日あたり, 、3日間).
_NOT_A_DAY = "間|あたり|当たり|平均|以内|以上|以下|未満|ぶり|振り|目|おき|置き|遅れ|連続"
_CONT_DAY = re.compile(
    rf"(?:(?P<cm>\d{{1,2}}){_S}月{_S})?(?P<cd>\d{{1,2}}){_S}日(?!{_NOT_A_DAY})"
    rf"(?:{_weekday_pat('c')})?(?:{_S}{_time_pat('c')})?",
    re.ASCII,
)
_CONT_TIME = re.compile(_time_pat("t"), re.ASCII)
_MARKER = re.compile(rf"{_S}\({_S}(?P<body>[^()\d]{{1,12}}?){_S}\)", re.ASCII)
# Before a date only named places count (a prefix has no bracket to delimit the name).
_FOREIGN_PLACES = (
    "現地|米国|米東部|米中部|米山岳部|米西部|ハワイ|グアム|英国|欧州|豪州|韓国|中国|台湾"
)
_MARKER_PREFIX = re.compile(
    rf"(?:(?P<jst>日本)|{_FOREIGN_PLACES})(?:時間|時刻){_S}:?(?:の|で|は)?{_S}$"
)
# Bracketed "(…時間)" that name no zone.
_NOT_A_ZONE = ("所要", "休憩", "予定", "勤務", "営業", "受付", "開催", "飛行", "滞在")
_ANY_DIGIT = re.compile(r"\d", re.ASCII)


# --- Building values -----------------------------------------------------------------------


class _Refused(Exception):
    """A candidate expression that is not a valid date; carries the reason."""


@dataclass
class _Ctx:
    reference: datetime | None
    ref_day: date | None
    zone: ZoneInfo


@dataclass
class _Piece:
    """One parsed expression before it becomes a FoundDate (positions in normalized text)."""

    start: int
    end: int
    wall: datetime  # naive wall time
    zone: tzinfo | None  # explicit zone, or None for `tz`
    year_given: bool
    time_given: bool
    weekday_given: bool
    warnings: list[str] = field(default_factory=list)
    also: list[datetime] = field(default_factory=list)  # naive wall times
    local: bool = False  # (現地時間)


def _jp_date(year: int, month: int, day: int) -> str:
    return f"{year}年{month}月{day}日"


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _Refused(f"no such date {_jp_date(year, month, day)}") from None


def _check_month_day(month: int, day: int) -> None:
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise _Refused(f"no such date {month}月{day}日")


def _weekday_index(char: str | None) -> int | None:
    return None if char is None else _WEEKDAY_CHARS.index(char)


def _weekday_warning(day: date, weekday: int | None) -> list[str]:
    if weekday is None or day.weekday() == weekday:
        return []
    return [
        f"weekday ({_WEEKDAY_CHARS[weekday]}) does not match {day.isoformat()} "
        f"({_WEEKDAY_CHARS[day.weekday()]}); kept the written date"
    ]


def _era_date(name: str, year_text: str, month: int, day: int, warnings: list[str]) -> date:
    """The calendar date of an era date, checked against the era's exact boundaries."""
    era = _ERAS[name]
    n = 1 if year_text == "元" else int(year_text)
    if n < 1:
        raise _Refused(f"no year 0 in an era ({name}{year_text}年)")
    year = era.relative_year_to_absolute_year(n)
    written = f"{name}{year_text}年{month}月{day}日"
    value = _make_date(year, month, day)
    if value < era.since:
        raise _Refused(f"{written} is before {name} began on {era.since.isoformat()}")
    if era.until is not None and value >= era.until:
        last = era.absolute_year_to_relative_year(era.until.year)
        if n > last + ERA_OVERRUN_YEARS:
            raise _Refused(
                f"{written} is more than {ERA_OVERRUN_YEARS} years past the end of {name}"
            )
        warnings.append(
            f"{written} is past the end of {name} (last day "
            f"{(era.until - timedelta(days=1)).isoformat()}); read as {value.isoformat()}"
        )
    return value


def _check_agree(era_year: int, western: str | None, what: str) -> None:
    if western is not None and int(western) != era_year:
        raise _Refused(f"{what} is {era_year}, not {western}")


def _infer_year(month: int, day: int, weekday: int | None, ctx: _Ctx) -> tuple[int, list[str]]:
    """The year for a date written without one (see the module docstring)."""
    if ctx.ref_day is None:
        raise _Refused(f"{month}月{day}日 has no year and no reference")
    ref = ctx.ref_day
    limit = ref + timedelta(days=YEARLESS_FUTURE_DAYS)
    weekday_limit = ref + timedelta(days=WEEKDAY_FUTURE_DAYS)
    dates = []
    for year in range(ref.year - WEEKDAY_SEARCH_YEARS, ref.year + 2):
        try:
            dates.append(date(year, month, day))
        except ValueError:  # 2月29日 outside leap years
            continue
    candidates = [c for c in dates if c <= limit]

    def nearest(cs: list[date]) -> date:
        # No ties: two candidates are a year or more apart, and the same day a year apart
        # never has the same weekday.
        return min(cs, key=lambda c: abs(c - ref))

    if not candidates:  # 2月29日 with no leap year in the window (around 1900, 2100)
        raise _Refused(f"no year near the reference has {month}月{day}日")
    plain = nearest(candidates)
    if weekday is None:
        return plain.year, []
    matching = [c for c in dates if c.weekday() == weekday and c <= weekday_limit]
    wd = _WEEKDAY_CHARS[weekday]
    if not matching:
        return plain.year, [
            f"{month}月{day}日({wd}): no year near the reference has that weekday; "
            f"used the nearest year {plain.year}"
        ]
    chosen = nearest(matching)
    if chosen != plain:
        return chosen.year, [
            f"{month}月{day}日({wd}): the weekday puts it in {chosen.year}, "
            f"not in the nearest year {plain.year}"
        ]
    return chosen.year, []


def _jp_clock(m: re.Match[str], p: str) -> tuple[time, int, list[str]] | None:
    """The time of day from _time_pat groups: (time, days to add, warnings), or None."""
    g = m.group
    if g(p + "noon"):
        return time(12), 0, []
    if g(p + "h") is not None:
        hour, second = int(g(p + "h")), int(g(p + "s") or 0)
        minute = 30 if g(p + "half") else int(g(p + "mi") or 0)
    elif g(p + "hc") is not None:
        hour, minute, second = int(g(p + "hc")), int(g(p + "mc")), int(g(p + "sc") or 0)
    else:
        return None
    warnings: list[str] = []
    days = 0
    ampm = g(p + "ampm")
    if ampm:
        if hour > 12:
            raise _Refused(f"{ampm}{hour}時 is not a time")
        if hour == 12:
            if minute or second:
                raise _Refused(f"{ampm}12時{minute}分 is ambiguous")
            if ampm == "午前":
                warnings.append("午前12時 read as noon (12:00)")
            else:
                hour, days = 0, 1
                warnings.append("午後12時 read as the midnight that ends the day")
        elif ampm == "午後":
            hour += 12
    if hour > 23 or minute > 59 or second > 59:
        raise _Refused(f"{hour}時{minute:02d}分{second:02d}秒 is not a time of day")
    return time(hour, minute, second), days, warnings


def _tzinfos(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil ``tzinfos`` callable: every zone dateutil sees is decided here."""
    if name:
        if not _known_zone(name):
            raise _Refused(f"unknown time zone {name!r}")
        return _zone_for_name(name)
    if offset is not None:
        return _fixed_zone(timedelta(seconds=offset))
    return None


# A four-digit year below 1000 (not an offset such as +0900, not part of a longer number).
_ZERO_PADDED_YEAR = re.compile(r"(?<![\d+\-:.])(0\d{3})(?![\d:])")
_DEFAULT = datetime(2000, 1, 1)  # noqa: DTZ001 - fills nothing: the regexes require y/m/d


def _dateutil(text: str, *, iso: bool = False) -> datetime:
    """Parse a located Western expression with dateutil; fixed-offset tzinfos."""
    try:
        value: datetime | None = None
        if iso:
            try:
                value = _dateutil_parser.isoparse(text)
            except ValueError:
                value = None  # e.g. unpadded 2025-3-5T09:33: the general parser reads it
        if value is None:
            value = _dateutil_parser.parse(
                text, default=_DEFAULT, yearfirst=True, dayfirst=False, tzinfos=_tzinfos
            )
    except (ValueError, OverflowError) as exc:
        raise _Refused(f"not a date ({exc})") from None
    # dateutil reads a year written with leading zeros (0001, 0099) as a two-digit year and
    # adds the century (0001 -> 2001): the year written is before EARLIEST, say so.
    for zero_year in _ZERO_PADDED_YEAR.findall(text):
        if int(zero_year) != value.hour * 100 + value.minute:  # not a time written 0930
            raise _Refused(f"year {zero_year} is before {EARLIEST.isoformat()}")
    offset = value.utcoffset()
    if offset is not None and not isinstance(value.tzinfo, ZoneInfo | timezone):
        value = value.replace(tzinfo=_fixed_zone(offset))  # isoparse's tzutc/tzoffset
    return value


def _check_zone_token(token: str | None) -> bool:
    """True if an uppercase token after a time is a zone we know; refuse zone-like others."""
    if token is None:
        return False
    if token[0] in "+-" or _known_zone(token):
        return True
    if _ZONE_LIKE.fullmatch(token):
        raise _Refused(f"unknown time zone {token!r}")
    return False  # an ordinary word after the time (NHK...), not part of the date


def _range_not_offset(zone: str, *, iso: bool, seconds: bool) -> bool:
    """``10:00-11:00`` / ``10:00-11`` read as a range: a negative offset with a colon or of
    hours only counts as an offset only in ISO form (``T``) or after seconds."""
    if zone[0] != "-" or iso or seconds:
        return False
    return ":" in zone or len(zone) == 3


def _check_clock(hour: str, minute: str, second: str | None, ap: str | None, raw: str) -> None:
    """Refuse 24:00 (which ISO 8601 and dateutil's isoparse accept) and 13:30 PM."""
    h = int(hour)
    if h > 23 or int(minute) > 59 or (second is not None and int(second) > 59):
        raise _Refused(f"{raw} is not a time of day")
    if ap and not 1 <= h <= 12:
        raise _Refused(f"{raw} is not a time of day")


def _piece_jp(m: re.Match[str], ctx: _Ctx) -> _Piece:
    g = m.group
    month, day = int(g("m")), int(g("d"))
    _check_month_day(month, day)
    warnings: list[str] = []
    weekday = _weekday_index(g("wd") or g("wdb"))
    if g("badyear"):
        raise _Refused(f"year {g('badyear')}年 is not understood")
    if g("era"):
        value = _era_date(g("era"), g("eray"), month, day, warnings)
        what = f"{g('era')}{g('eray')}年"
        _check_agree(value.year, g("eraw"), what)
        _check_agree(value.year, g("eraw2"), what)
        year_given = True
    elif g("wy"):
        value = _make_date(int(g("wy")), month, day)
        for era, ey in ((g("wera"), g("weray")), (g("wera2"), g("weray2"))):
            if era:
                era_value = _era_date(era, ey, month, day, warnings)
                _check_agree(era_value.year, g("wy"), f"{era}{ey}年")
        year_given = True
    else:
        year, inferred = _infer_year(month, day, weekday, ctx)
        warnings += inferred
        value = date(year, month, day)
        year_given = False
    if year_given:
        warnings += _weekday_warning(value, weekday)
    return _jp_piece(m, value, year_given=year_given, weekday=weekday, warnings=warnings)


def _jp_piece(
    m: re.Match[str], value: date, *, year_given: bool, weekday: int | None, warnings: list[str]
) -> _Piece:
    """A Japanese-style date match with its optional clock (時/分, 午前/午後) applied."""
    clock = _jp_clock(m, "")
    wall = datetime.combine(value, time())
    if clock is not None:
        wall = datetime.combine(value + timedelta(days=clock[1]), clock[0])
        warnings += clock[2]
    return _Piece(
        start=m.start(),
        end=m.end(),
        wall=wall,
        zone=None,
        year_given=year_given,
        time_given=clock is not None,
        weekday_given=weekday is not None,
        warnings=warnings,
    )


def _piece_short_era(m: re.Match[str], ctx: _Ctx) -> _Piece:
    g = m.group
    era = _ERA_BY_ABBREV[g("lat") or g("kan")]
    month, day = int(g("m")), int(g("d"))
    _check_month_day(month, day)
    warnings: list[str] = []
    value = _era_date(era.kanji, g("y"), month, day, warnings)
    weekday = _weekday_index(g("wd") or g("wdb"))
    warnings += _weekday_warning(value, weekday)
    return _jp_piece(m, value, year_given=True, weekday=weekday, warnings=warnings)


def _piece_western(m: re.Match[str], ctx: _Ctx) -> _Piece:
    g = m.group
    _make_date(int(g("y")), int(g("m")), int(g("d")))
    end = m.end()
    source = g("date")
    if g("time"):
        _check_clock(g("H"), g("M"), g("S"), g("ap"), g("time"))
        source += ("T" if g("T") else " ") + g("time")
        zone = g("zatt")
        if g("zsp") and _check_zone_token(g("zsp")):
            zone = " " + g("zsp")
        if zone and _range_not_offset(zone.strip(), iso=bool(g("T")), seconds=bool(g("S"))):
            zone = None  # 10:00-11:00 is a time range, not an offset
        if zone:
            source += zone
        else:
            end = m.end("time")
    value = _dateutil(source, iso=bool(g("T")))
    if value.date() != date(int(g("y")), int(g("m")), int(g("d"))):  # guards dateutil's reading
        raise _Refused(f"dateutil read {source!r} as {value.date()}")
    weekday = _weekday_index(g("wd") or g("wdb"))
    explicit = value.tzinfo
    return _Piece(
        start=m.start(),
        end=end,
        wall=value.replace(tzinfo=None),
        zone=explicit,
        year_given=True,
        time_given=bool(g("time")),
        weekday_given=weekday is not None,
        warnings=_weekday_warning(value.date(), weekday),
    )


def _piece_english(m: re.Match[str], ctx: _Ctx) -> _Piece:
    g = m.group
    end = m.end()
    if g("time"):
        _check_clock(g("H"), g("M"), g("S"), g("ap"), g("time"))
        if g("zone") and not _check_zone_token(g("zone")):
            end = m.end("time")
    # The weekday is checked here, not by dateutil (which knows no "Thurs").
    value = _dateutil(m.string[m.end("wdpart") if g("wdpart") else m.start() : end])
    warnings: list[str] = []
    weekday = None
    if g("wd"):
        weekday = _EN_WEEKDAYS.index(g("wd")[:3].lower())
        if value.weekday() != weekday:
            warnings.append(
                f"weekday {g('wd')} does not match {value.date().isoformat()} "
                f"({value.strftime('%a')}); kept the written date"
            )
    return _Piece(
        start=m.start(),
        end=end,
        wall=value.replace(tzinfo=None),
        zone=value.tzinfo,
        year_given=True,
        time_given=bool(g("time")),
        weekday_given=weekday is not None,
        warnings=warnings,
    )


def _eat_marker(norm: str, pos: int, piece: _Piece) -> int:
    """Consume a (現地時間)-like marker at pos; return the new position."""
    mm = _MARKER.match(norm, pos)
    if not mm:
        return pos
    body = mm.group("body").strip()
    if body.startswith("現地"):
        piece.local = True
    elif body in ("日本時間", "日本時刻", "JST"):
        if piece.zone is None:
            piece.zone = ZoneInfo(_TOKYO)
    elif body in ("UTC", "GMT", "UT"):
        if piece.zone is None:
            piece.zone = UTC
    elif body.endswith(("時間", "時刻")) and not body.startswith(_NOT_A_ZONE):
        piece.local = True  # another country's time (米東部時間): offset unknown to us
    else:
        return pos
    return mm.end()


def _extend(norm: str, piece: _Piece, days: bool) -> None:
    """Follow-ups of a range/list and local-time markers after the piece (see docstring)."""
    pos = _eat_marker(norm, piece.end, piece)
    prev = piece.wall
    prev_has_time = piece.time_given
    while True:
        sm = _CONT_SEP.match(norm, pos)
        if not sm:
            break
        after = sm.end()
        dm = _CONT_DAY.match(norm, after) if days else None
        tm = None
        if dm is None and sm.group("range") and prev_has_time:
            tm = _CONT_TIME.match(norm, after)
        try:
            if dm is not None:
                nxt, has_time = _follow_day(dm, prev, piece.warnings)
                follow_end = dm.end()
            elif tm is not None:
                nxt, has_time = _follow_time(tm, prev, piece.warnings), True
                follow_end = tm.end()
            else:
                break
        except _Refused as exc:
            piece.warnings.append(f"ignored what follows the date: {exc}")
            break
        piece.also.append(nxt)
        prev, prev_has_time = nxt, has_time
        pos = _eat_marker(norm, follow_end, piece)
    piece.end = pos
    prefix = _MARKER_PREFIX.search(norm, max(0, piece.start - 16), piece.start)
    if prefix:
        piece.start = prefix.start()
        if prefix.group("jst"):
            piece.zone = piece.zone or ZoneInfo(_TOKYO)
        else:
            piece.local = True  # 現地時間, 米国時間...: offset unknown to us


def _follow_day(dm: re.Match[str], prev: datetime, warnings: list[str]) -> tuple[datetime, bool]:
    g = dm.group
    month = int(g("cm")) if g("cm") else prev.month
    day = int(g("cd"))
    _check_month_day(month, day)
    year = prev.year
    if g("cm") and month < prev.month:
        year += 1  # 12月28日~1月4日
    elif not g("cm") and day < prev.day:
        month += 1  # 3月30日~2日
        if month == 13:
            year, month = year + 1, 1
    value = _make_date(year, month, day)
    warnings += _weekday_warning(value, _weekday_index(g("cwd") or g("cwdb")))
    clock = _jp_clock(dm, "c")
    if clock is None:
        return datetime.combine(value, time()), False
    warnings += clock[2]
    return datetime.combine(value + timedelta(days=clock[1]), clock[0]), True


def _follow_time(tm: re.Match[str], prev: datetime, warnings: list[str]) -> datetime:
    clock = _jp_clock(tm, "t")
    assert clock is not None
    warnings += clock[2]
    value = datetime.combine(prev.date() + timedelta(days=clock[1]), clock[0])
    if value < prev:
        value += timedelta(days=1)  # 23時~1時
    return value


# Days named relative to a reference: 本日 / 今日 (its day), 昨日 / 前日 (the day before),
# 一昨日, 翌日 / 明日, and 同日 ("the same day": the reference's day, e.g. the article's date).
_RELATIVE_DAYS = {"本日": 0, "今日": 0, "同日": 0, "当日": 0, "昨日": -1, "前日": -1,
                  "一昨日": -2, "翌日": 1, "明日": 1}  # fmt: skip
_RELATIVE = re.compile(
    rf"(?P<rel>一昨日|本日|今日|同日|当日|昨日|前日|翌日|明日)(?:{_S}{_time_pat('')})?"
)


def _piece_relative(m: re.Match[str], ctx: _Ctx) -> _Piece:
    if ctx.ref_day is None:
        raise _Refused(f"{m.group('rel')} needs a reference date")
    value = ctx.ref_day + timedelta(days=_RELATIVE_DAYS[m.group("rel")])
    return _jp_piece(m, value, year_given=False, weekday=None, warnings=[])


_BUILDERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], _Ctx], _Piece], bool], ...] = (
    (_JP, _piece_jp, True),
    (_RELATIVE, _piece_relative, False),
    (_SHORT_ERA, _piece_short_era, False),
    (_WESTERN, _piece_western, False),
    (_ENGLISH, _piece_english, False),
)


@dataclass
class _Failure:
    start: int
    end: int
    raw: str
    reason: str

    def message(self, text: str) -> str:
        if self.raw.strip() == text.strip():
            return f"{self.reason}: {_quote(text)}"
        return f"{self.reason} ({self.raw!r}) in {_quote(text)}"


def _finish(piece: _Piece, ctx: _Ctx, text: str, origin: list[int] | None) -> FoundDate:
    if piece.wall.date() < EARLIEST:
        raise _Refused(f"{piece.wall.date().isoformat()} is before {EARLIEST.isoformat()}")
    zone = piece.zone or ctx.zone
    value = piece.wall.replace(tzinfo=zone)
    if ctx.reference is not None:
        try:
            too_late = value - ctx.reference > MAX_FUTURE
        except OverflowError:  # years near 9999
            too_late = True
        if too_late:
            raise _Refused(
                f"{value.isoformat()} is implausibly far after the reference "
                f"{ctx.reference.isoformat()}"
            )
    start, end = _original_span(piece.start, piece.end, origin)
    return FoundDate(
        start=start,
        end=end,
        raw=text[start:end],
        value=value,
        year_given=piece.year_given,
        time_given=piece.time_given,
        weekday_given=piece.weekday_given,
        offset_known=not (piece.local and piece.zone is None),
        warnings=tuple(piece.warnings),
        also=tuple(w.replace(tzinfo=zone) for w in piece.also),
    )


def _original_span(start: int, end: int, origin: list[int] | None) -> tuple[int, int]:
    if origin is None:
        return start, end
    return origin[start], origin[end - 1] + 1


def _context(reference: datetime | None, tz: str) -> _Ctx:
    if reference is not None:
        if not isinstance(reference, datetime):
            raise TypeError(f"reference must be a datetime, not {type(reference).__name__}")
        if reference.tzinfo is None or reference.utcoffset() is None:
            raise TypeError(f"reference must be timezone-aware, got naive {reference!r}")
    zone = ZoneInfo(tz)
    ref_day = reference.astimezone(zone).date() if reference is not None else None
    return _Ctx(reference=reference, ref_day=ref_day, zone=zone)


def _scan(text: str, reference: datetime | None, tz: str) -> list[FoundDate | _Failure]:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    ctx = _context(reference, tz)
    norm, origin = _normalize(text)
    if not _ANY_DIGIT.search(norm) and not _RELATIVE.search(norm):
        return []
    entries: list[tuple[int, int, FoundDate | _Failure]] = []
    for pattern, build, days in _BUILDERS:
        pos = 0
        while m := pattern.search(norm, pos):
            try:
                piece = build(m, ctx)
                _extend(norm, piece, days)
                found: FoundDate | _Failure = _finish(piece, ctx, text, origin)
                start, end = piece.start, piece.end
            except _Refused as exc:
                start, end = m.start(), m.end()
                o_start, o_end = _original_span(start, end, origin)
                found = _Failure(o_start, o_end, text[o_start:o_end], str(exc))
            entries.append((start, -end, found))
            pos = max(end, m.end())  # go on after the follow-ups: they are taken (linear time)
    entries.sort(key=lambda e: (e[0], e[1]))
    result: list[FoundDate | _Failure] = []
    last_end = -1
    for start, neg_end, found in entries:
        if start >= last_end:
            result.append(found)
            last_end = -neg_end
    return result


def _quote(text: str) -> str:
    return repr(text) if len(text) <= 200 else repr(text[:200] + "…")


def _log_warnings(found: FoundDate, text: str) -> None:
    for warning in found.warnings:
        logger.warning("date %r in %s: %s", found.raw, _quote(text), warning)


# --- Public functions ----------------------------------------------------------------------


def parse_date(text: str, *, reference: datetime | None = None, tz: str = _TOKYO) -> FoundDate:
    """The date ``text`` is (its first date expression), with provenance.

    Raises DateParseError when the text holds no date, or when its first date expression is
    impossible (2月30日), implausible, or has no year and no reference is given.
    """
    items = _scan(text, reference, tz)
    if not items:
        raise DateParseError(f"no date in {_quote(text)}")
    first = items[0]
    if isinstance(first, _Failure):
        raise DateParseError(first.message(text))
    _log_warnings(first, text)
    return first


def parse_datetime(text: str, *, reference: datetime | None = None, tz: str = _TOKYO) -> datetime:
    """The aware datetime ``text`` is; the start of a range/list. See :func:`parse_date`."""
    return parse_date(text, reference=reference, tz=tz).value


def find_dates(
    text: str, *, reference: datetime | None = None, tz: str = _TOKYO
) -> list[FoundDate]:
    """Every valid date expression in free text, in order, with spans into ``text``."""
    found = []
    for item in _scan(text, reference, tz):
        if isinstance(item, _Failure):
            logger.debug("not a date: %s", item.message(text))
            continue
        _log_warnings(item, text)
        found.append(item)
    return found


# --- Page dates of any site: day-first numerals, month names, zone abbreviations ------------
#
# read_page_date(text, lang=..., japanese=...) reads the date a page's metadata or date line
# gives, on any site: what parse_date reads (ISO 8601, RFC 822, Japanese), plus day-first and
# dotted numerals (09.08.2013, 9/8/2013: the page's language decides when both readings are
# valid), month names of the major news languages, and the time-zone abbreviations news pages
# print (CEST, BST...). A date-only value keeps its precision ("day": no time is invented) and
# a value keeps the page's own UTC offset. Without a zone the value is the page's wall time,
# attached to Asia/Tokyo on a Japanese site, else to UTC with offset_known False.
# Hand-written: dateutil reads English month names only and takes one dayfirst flag for all
# inputs; htmldate gives a day without time or zone (it is used as a last layer by the reader).


@dataclass(frozen=True)
class PageDate:
    """A page's date: aware ``value``, its ``precision`` ("day", "minute", "second") and
    whether the UTC offset was given (else the wall time carries a placeholder zone)."""

    value: datetime
    precision: str
    offset_known: bool
    raw: str

    def iso(self) -> str:
        """``2013-08-09`` for a day, else ISO 8601 with the page's own offset."""
        if self.precision == "day":
            return self.value.date().isoformat()
        return self.value.isoformat(timespec="seconds" if self.precision == "second" else "minutes")


# Zone abbreviations news pages print (fixed offsets, hours): the summer and winter names of
# Europe, the Americas, Asia and Oceania. IST is read as India (the news use; Irish and
# Israeli pages print the offset or IDT/GMT).
_PAGE_ZONES = _ZONE_HOURS | {
    "JST": 9, "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2, "BST": 1, "WET": 0, "WEST": 1,
    "EET": 2, "EEST": 3, "MSK": 3, "IST": 5.5, "IDT": 3, "HKT": 8, "SGT": 8, "PHT": 8,
    "AWST": 8, "ACST": 9.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "ICT": 7,
    "WIB": 7, "AST": -4, "ADT": -3, "AKST": -9, "AKDT": -8, "HST": -10, "BRT": -3, "ART": -3,
    "CAT": 2, "EAT": 3, "WAT": 1, "SAST": 2, "PKT": 5, "TRT": 3,
}  # fmt: skip

# Month names (and their usual short forms) of the major news languages → month number.
_MONTH_WORDS: dict[str, int] = {}
for _month, _names in enumerate(
    (
        "january jan januar jänner jänn janvier janv enero ene gennaio genn janeiro januari "
        "januar stycznia styczeń sty января январь ocak ιανουαρίου ledna leden",
        "february feb februar février févr fevrier febrero febbraio fevereiro fev februari "
        "lutego luty lut февраля февраль şubat φεβρουαρίου února únor",
        "march mar märz maerz mars marzo março marco maart maret marca marzec марта март mart "
        "μαρτίου března březen",
        "april apr avril avr abril abr aprile aprilie kwietnia kwiecień kwi апреля апрель "
        "nisan απριλίου dubna duben",
        "may mai mayo maggio maio mei maja maj мая май mayıs μαΐου května květen",
        "june jun juni juin junio giugno junho czerwca czerwiec cze июня июнь haziran "
        "ιουνίου června červen",
        "july jul juli juillet juil julio luglio julho lipca lipiec lip июля июль temmuz "
        "ιουλίου července červenec",
        "august aug août aout agosto agustus augustus sierpnia sierpień sie августа август "
        "ağustos αυγούστου srpna srpen",
        "september sep sept septembre septiembre setiembre settembre setembro set "
        "września wrzesień wrz сентября сентябрь eylül σεπτεμβρίου září",
        "october oct oktober octobre octubre ottobre outubro out okt października "
        "październik paź октября октябрь ekim οκτωβρίου října říjen",
        "november nov novembre noviembre novembro nopember listopada listopad lis ноября "
        "ноябрь kasım νοεμβρίου listopadu",
        "december dec dezember décembre decembre diciembre dic dicembre dezembro dez "
        "desember grudnia grudzień gru декабря декабрь aralık δεκεμβρίου prosince prosinec",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTH_WORDS.setdefault(_name, _month)
_MONTH_ALT = "|".join(sorted(map(re.escape, _MONTH_WORDS), key=len, reverse=True))
_CLOCK = (
    r"(?:\s*(?:,|um|à|a las|alle|às|at|om|kl\.?|klo|o|в|-|–|\|)?\s*"
    r"(?P<H>\d{1,2})[:.h](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?(?:\s*(?P<ap>[ap]\.?\s?m\.?)(?!\w))?"
    r"(?:\s*(?:Uhr|h|horas?|ore))?"
    r"(?:\s*\(?(?P<zone>[A-Z]{2,5}|(?:GMT|UTC)?\s?[+-]\d{1,2}(?::?\d{2})?)\)?(?![\w]))?)?"
)
# A year ends where its digits do, or where a clock glued to it begins: a page that sets the
# time in an element of its own ("6. November 2023<span>14:03</span>") reads "202314:03".
_YEAR_END = r"(?:(?!\d)|(?=\d{1,2}[:.h]\d{2}(?!\d)))"
_NUMERIC_DMY = re.compile(
    r"(?<![\d.:/-])(?P<a>\d{1,2})(?P<sep>[./-])\s?(?P<b>\d{1,2})(?P=sep)\s?(?P<y>\d{4})" + _YEAR_END
    + _CLOCK
)
_NAMED = re.compile(
    r"(?<!\w)(?:(?P<d1>\d{1,2})(?:\.|º|er|st|nd|rd|th)?\s*(?:de\s+|of\s+)?(?P<m1>" + _MONTH_ALT
    + r")\.?,?\s*(?:de\s+|del\s+)?|(?P<m2>" + _MONTH_ALT + r")\.?\s+(?P<d2>\d{1,2})"
    r"(?:st|nd|rd|th)?(?:,\s*|\s+))(?P<y>\d{4})" + _YEAR_END + r"(?:\s*г\.?|\s*года)?" + _CLOCK,
    re.IGNORECASE,
)
_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_PLAIN_DATETIME = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")
# Month-first where both readings of 04/05/2024 are valid: the US and a few others.
_MONTH_FIRST_LANGS = ("en-us", "en_us", "fil", "en-ph")


def _page_zone(token: str | None, japanese: bool) -> tuple[tzinfo, bool]:
    if token:
        t = token.replace(" ", "").upper()
        m = re.fullmatch(r"(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?", t)
        if m:
            minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
            return _fixed_zone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes)), True
        if t in _PAGE_ZONES:
            if t == "JST":
                return ZoneInfo(_TOKYO), True
            hours = _PAGE_ZONES[t]
            return (UTC if hours == 0 else timezone(timedelta(hours=hours), t)), True
    return (ZoneInfo(_TOKYO) if japanese else UTC), False


def _page_value(
    y: int, mo: int, d: int, m: re.Match[str], japanese: bool, raw: str
) -> PageDate:
    day = _make_date(y, mo, d)
    if m.group("H") is None:
        zone, known = _page_zone(None, japanese)
        return PageDate(datetime.combine(day, time(), zone), "day", known, raw)
    hour, minute = int(m.group("H")), int(m.group("M"))
    ap = (m.group("ap") or "").lower().replace(".", "").replace(" ", "")
    if ap == "pm" and hour < 12:
        hour += 12
    elif ap == "am" and hour == 12:
        hour = 0
    second = int(m.group("S")) if m.group("S") else 0
    if hour > 23 or minute > 59 or second > 59:
        raise DateParseError(f"not a time of day in {_quote(raw)}")
    zone, known = _page_zone(m.group("zone"), japanese)
    value = datetime.combine(day, time(hour, minute, second), zone)
    return PageDate(value, "second" if m.group("S") else "minute", known, raw)


def _from_found(found: FoundDate, japanese: bool, raw: str) -> PageDate:
    value = found.value
    known = found.offset_known
    if not japanese and found.time_given and isinstance(value.tzinfo, ZoneInfo) and not re.search(
        r"JST|日本時間|[+-]\d{2}:?\d{2}|Z\b", raw
    ):
        value, known = value.replace(tzinfo=UTC), False  # a wall time, not Tokyo's
    if not found.time_given:
        zone = ZoneInfo(_TOKYO) if japanese else UTC
        return PageDate(datetime.combine(value.date(), time(), zone), "day", japanese, raw)
    precision = "second" if value.second else "minute"
    return PageDate(value, precision, known, raw)


_JA_DAY_WITHOUT_MARK = re.compile(r"(\d{4}年\d{1,2}月\d{1,2})(?=更新|$|\s)")


def read_page_date(
    text: str,
    *,
    lang: str | None = None,
    japanese: bool = False,
    reference: datetime | None = None,
) -> PageDate:
    """The date a page's field or date line gives (see the section comment above).

    ``lang``: the page's language (``de``, ``en-US``...), the tie-breaker between day-first
    and month-first numerals; ``japanese``: the site is Japanese (a value without a zone is
    then Tokyo time); ``reference``: an aware datetime for dates written without a year
    (NHK's ``[06月24日 11時30分]``). Raises :class:`DateParseError`.
    """
    raw = " ".join(text.split())
    if not raw:
        raise DateParseError("no date in an empty text")
    # "2024年11月29更新": a Japanese date line that lost its 日 (seen once on 朝雲) is still
    # that day.
    raw = _JA_DAY_WITHOUT_MARK.sub(r"\1日", raw)
    if m0 := _ISO_DAY.match(raw):  # a date-only ISO value: a day, in no zone
        try:
            day = _make_date(*(int(g) for g in m0.groups()))
        except _Refused as exc:
            raise DateParseError(f"{exc} in {_quote(raw)}") from None
        zone = ZoneInfo(_TOKYO) if japanese else UTC
        return PageDate(datetime.combine(day, time(), zone), "day", japanese, raw)
    if raw[:4].isdigit() and raw[4:5] == "-":  # ISO 8601 (most metadata): read by Python
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
        except ValueError:
            pass
        else:
            if value.year >= EARLIEST.year and (value.tzinfo is not None or len(raw) > 10):
                known = value.tzinfo is not None
                if not known:
                    value = value.replace(tzinfo=ZoneInfo(_TOKYO) if japanese else UTC)
                    known = japanese
                elif not isinstance(value.tzinfo, ZoneInfo):
                    offset = value.utcoffset()
                    assert offset is not None
                    value = value.replace(tzinfo=UTC if not offset else _fixed_zone(offset))
                precision = "second" if value.second or value.microsecond else "minute"
                return PageDate(value, precision, known, raw)
    if (m1 := _PLAIN_DATETIME.match(raw)) is not None:  # "2024-9-17 10:01" (date lines)
        y, mo, d, hh, mi, ss = (int(g) if g else 0 for g in m1.groups())
        try:
            value = datetime(y, mo, d, hh, mi, ss, tzinfo=ZoneInfo(_TOKYO) if japanese else UTC)
        except ValueError:
            raise DateParseError(f"no such date or time in {_quote(raw)}") from None
        return PageDate(value, "second" if m1.group(6) else "minute", japanese, raw)
    tz = _TOKYO if japanese else "UTC"
    try:
        if not _NUMERIC_DMY.search(raw) and not _NAMED.search(raw):
            return _from_found(parse_date(raw, reference=reference, tz=tz), japanese, raw)
    except DateParseError:
        pass
    # The expressions found, by where they start: (start, (year, month, day) and its match,
    # or a date parse_date read).
    candidates: list[tuple[int, tuple[int, int, int, re.Match[str]] | FoundDate]] = []
    if (m := _NAMED.search(raw)) is not None:
        month = _MONTH_WORDS[(m.group("m1") or m.group("m2")).lower()]
        d = int(m.group("d1") or m.group("d2"))
        candidates.append((m.start(), (int(m.group("y")), month, d, m)))
    if (m := _NUMERIC_DMY.search(raw)) is not None:
        a, b = int(m.group("a")), int(m.group("b"))
        month_first = (lang or "").lower().startswith(_MONTH_FIRST_LANGS) and m.group("sep") == "/"
        if a > 12 or (b <= 12 and not month_first):
            d, mo = a, b
        else:
            d, mo = b, a
        candidates.append((m.start(), (int(m.group("y")), mo, d, m)))
    try:
        found = parse_date(raw, reference=reference, tz=tz)
        candidates.append((found.start, found))
    except DateParseError:
        pass
    errors = []
    for _, candidate in sorted(candidates, key=lambda c: c[0]):
        try:
            if isinstance(candidate, FoundDate):
                return _from_found(candidate, japanese, raw)
            y, mo, d, match = candidate
            return _page_value(y, mo, d, match, japanese, raw)
        except (DateParseError, ValueError, _Refused) as exc:
            errors.append(str(exc))
    raise DateParseError(f"no date in {_quote(raw)}" + (f" ({errors[0]})" if errors else ""))
