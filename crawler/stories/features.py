"""What an article says about its event, as values that compare across languages.

:func:`features` reads the title, the summary and the lead of the text (feeds give a title,
a date and a sentence or two) and returns:

- the **event date**: the date written in the title or the text (``(8月26日)``,
  ``令和6年8月26日(月)``, "on Aug. 26", "il 26 agosto", "on Monday", "ontem"), read by
  :mod:`crawler.dates` for the Japanese, Chinese and numeric forms and by the small tables
  below for English, Italian and Portuguese month names, weekdays and "yesterday"; without
  one, the days before the publication date (an outlet reports an event up to a few days
  late);
- **facts**, language-independent tokens: designators of ships, aircraft and missiles
  (``Y-9`` = ``Y9``), amounts and counts as values with their unit (``1235億3000万円`` =
  "¥123.53 billion" = ``n:1.24e11:yen``), times of day (``11時29分`` = "11:29 a.m."),
  names of people and places (Japanese written in kanji or kana romanized with pykakasi and
  compared with Latin-script words through a phonetic key, so 中谷 = "Nakatani",
  男女群島 = "Danjo Islands", 与那国 = "Yonaguni"), and the concepts of
  :mod:`crawler.stories.lexicon` (countries, forces, platform and event kinds);
- **words**, for articles in the same language: CJK character bigrams or Latin word stems.
"""

from __future__ import annotations

import gc
import html
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from crawler.dates import find_dates
from crawler.stories.lexicon import CONCEPTS, NAMES


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, the longest first, written as a
    trie (``a(?:ir(?:\\ force)?|rmy)``): the same matches as the alternation of the words
    sorted longest first, but ``re`` follows one branch per character instead of trying
    every word at every position (the lexicon's 480 Latin spellings cost 250 µs a lead)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and len(branches[0]) == 1 \
            else "(?:" + "|".join(branches) + ")"
        return body + "?" if ends else body

    return pattern(trie)


_TOKYO = ZoneInfo("Asia/Tokyo")
# An article without a date in its text reports an event of its publication day or of the
# few days before (J-Defense restates the ministry's releases a median 3.5 days later).
UNDATED_DAYS_BEFORE = 5

# -- event date -----------------------------------------------------------------------------

_MONTHS = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
    # Italian
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6,
    "luglio": 7, "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
    # Portuguese
    "janeiro": 1, "fevereiro": 2, "março": 3, "marco": 3, "abril": 4, "maio": 5, "junho": 6,
    "julho": 7, "setembro": 9, "outubro": 10, "dezembro": 12,
}
_MONTH_RE = trie_pattern(_MONTHS)
# "Aug. 26", "August 26, 2024"
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?",
                        re.IGNORECASE)
# "26 August 2024", "26 agosto", "26 de agosto de 2024", "1º de março"
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:º|°|st|nd|rd|th)?\s+(?:de\s+)?({_MONTH_RE})\b(?:\s+(?:de\s+)?(\d{{4}}))?",
    re.IGNORECASE)
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
    "lunedì": 0, "lunedi": 0, "martedì": 1, "martedi": 1, "mercoledì": 2, "mercoledi": 2,
    "giovedì": 3, "giovedi": 3, "venerdì": 4, "venerdi": 4, "sabato": 5, "domenica": 6,
    "segunda-feira": 0, "terça-feira": 1, "terca-feira": 1, "quarta-feira": 2,
    "quinta-feira": 3, "sexta-feira": 4, "sábado": 5, "domingo": 6,
}
_WEEKDAY = re.compile(r"\b(" + trie_pattern(_WEEKDAYS) + r")\b",
                      re.IGNORECASE)
_ZH_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_RELATIVE = {
    "yesterday": -1, "ieri": -1, "ontem": -1, "昨日": -1, "昨天": -1,
    "today": 0, "oggi": 0, "hoje": 0, "本日": 0, "今日": 0, "今天": 0,
}
_RELATIVE_RE = re.compile(r"\b(yesterday|ieri|ontem|today|oggi|hoje)\b|(昨日|昨天|本日|今日|今天)",
                          re.IGNORECASE)


@dataclass(frozen=True)
class EventDate:
    day: date | None  # the event's day, as written (None: not written)
    soft: bool  # True when read from a weekday or "yesterday" (the outlet's own day, ±1)
    lo: date  # the days the event can be on
    hi: date


def _near_year(month: int, day: int, ref: date) -> date | None:
    """The date month/day nearest before ``ref`` (an event reported, at most 60 days ahead)."""
    for year in (ref.year, ref.year - 1, ref.year + 1):
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        if ref - timedelta(days=300) <= found <= ref + timedelta(days=60):
            return found
    return None


def _latin_date(text: str, ref: date) -> tuple[int, date] | None:
    best: tuple[int, date] | None = None
    for m in _MONTH_DAY.finditer(text):
        month, day, year = _MONTHS[m.group(1).lower()], int(m.group(2)), m.group(3)
        found = _date_or_none(int(year), month, day) if year else _near_year(month, day, ref)
        if found and (best is None or m.start() < best[0]):
            best = (m.start(), found)
    for m in _DAY_MONTH.finditer(text):
        day, month, year = int(m.group(1)), _MONTHS[m.group(2).lower()], m.group(3)
        found = _date_or_none(int(year), month, day) if year else _near_year(month, day, ref)
        if found and (best is None or m.start() < best[0]):
            best = (m.start(), found)
    return best


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _soft_date(text: str, ref: date) -> date | None:
    m = _WEEKDAY.search(text)
    weekday = _WEEKDAYS[m.group(1).lower()] if m else None
    if weekday is None:
        zm = _ZH_WEEKDAY.search(text)
        weekday = _ZH_WEEKDAYS[zm.group(1)] if zm else None
    if weekday is not None:
        # The last such weekday on or before the publication day.
        return ref - timedelta(days=(ref.weekday() - weekday) % 7)
    rm = _RELATIVE_RE.search(text)
    if rm:
        return ref + timedelta(days=_RELATIVE[(rm.group(1) or rm.group(2)).lower()])
    return None


def event_date(title: str, text: str, published: datetime | None) -> EventDate:
    """The event's day from the title first, then the text; else the days before
    ``published``."""
    pub = (published.astimezone(_TOKYO) if published else datetime.now(_TOKYO)).date()
    reference = published or datetime.now(_TOKYO)
    for part in (title, text):
        if not part:
            continue
        found: list[tuple[int, date]] = []
        for fd in find_dates(part, reference=reference):
            day = fd.value.date()
            if pub - timedelta(days=400) <= day <= pub + timedelta(days=60):
                found.append((fd.start, day))
        latin = _latin_date(part, pub)
        if latin:
            found.append(latin)
        if found:
            day = min(found)[1]
            return EventDate(day, False, day, day)
        soft = _soft_date(part, pub)
        if soft is not None:
            return EventDate(soft, True, soft - timedelta(days=1), soft + timedelta(days=1))
    return EventDate(None, True, pub - timedelta(days=UNDATED_DAYS_BEFORE), pub)


# -- facts ------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
# SH-60K, Y-9, F-35B, MQ-9B, DDG-174; a count may follow at once in Japanese ("SH-60K2機").
_DESIGNATOR = re.compile(r"(?<![A-Za-z0-9])([A-Z]{1,4})[-‐‑ ]?(\d{1,4})([A-Z]{0,2})(?![A-Za-z])")
_JP_TIME = re.compile(r"(午前|午後)?(\d{1,2})時(?:(\d{1,2})分|(?![\d半]))")
_LATIN_TIME = re.compile(r"(?<![\d:.,])(\d{1,2})(?:[:.](\d{2}))?\s*(a\.?m\b\.?|p\.?m\b\.?)?(?![\d])",
                         re.IGNORECASE)
_UNIT_WORDS = {
    "円": "yen", "日元": "yen", "yen": "yen", "¥": "yen", "ienes": "yen",
    "ドル": "usd", "美元": "usd", "dollars": "usd", "dollar": "usd", "dollari": "usd",
    "dólares": "usd", "$": "usd", "us$": "usd",
    "ユーロ": "eur", "欧元": "eur", "euro": "eur", "euros": "eur", "€": "eur",
    "人": "people", "名": "people", "people": "people", "persone": "people",
    "pessoas": "people", "personnel": "people", "troops": "people", "soldiers": "people",
    "militari": "people", "militares": "people", "crew": "people",
    "隻": "ships", "艘": "ships", "ships": "ships", "vessels": "ships", "navi": "ships",
    "navios": "ships",
    "機": "aircraft", "架": "aircraft", "aircraft": "aircraft", "aerei": "aircraft",
    "aeronaves": "aircraft", "jets": "aircraft", "planes": "aircraft",
    "発": "missiles", "发": "missiles", "枚": "missiles", "missiles": "missiles", "missili": "missiles",
    "mísseis": "missiles",
    "キロ": "km", "km": "km", "kilometers": "km", "kilometres": "km", "chilometri": "km",
    "quilômetros": "km", "quilómetros": "km",
    "トン": "t", "吨": "t", "tons": "t", "tonnes": "t", "tonnellate": "t", "toneladas": "t",
}
_SCALE_WORDS = {
    "thousand": 1e3, "mila": 1e3, "mil": 1e3,
    "million": 1e6, "millions": 1e6, "milioni": 1e6, "milione": 1e6, "milhões": 1e6,
    "milhão": 1e6, "mn": 1e6, "m": 1e6,
    "billion": 1e9, "billions": 1e9, "miliardi": 1e9, "miliardo": 1e9, "bilhões": 1e9,
    "bilhão": 1e9, "bn": 1e9, "b": 1e9,
    "trillion": 1e12, "trilioni": 1e12, "trilhões": 1e12,
}
_UNIT_RE = "|".join(re.escape(u) for u in sorted(_UNIT_WORDS, key=len, reverse=True)
                    if u.isascii() and u.isalpha() or u in ("¥", "$", "€", "us$", "dólares",
                                                           "mísseis", "quilômetros",
                                                           "quilómetros"))
_SCALE_RE = "|".join(sorted(_SCALE_WORDS, key=len, reverse=True))
_NUMBER = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
# "¥123.53 billion", "$1.5 bn", "€ 20 milioni", "123.53 billion yen", "4,000 troops"
_LATIN_AMOUNT = re.compile(  # (the lookahead: only where an amount can start)
    rf"(?=[¥$€\d\s]|us\$)(¥|\$|€|us\$)?\s?({_NUMBER})\s*(?:({_SCALE_RE})\b)?\s*(?:(?:de\s+|di\s+|of\s+)?({_UNIT_RE})\b)?",
    re.IGNORECASE)
# Counts written as words ("nine ballistic missiles", "cinque dei missili", "oito tripulantes"),
# compared with the digits other outlets write (9発, 5 missiles).
_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "dozen": 12, "twenty": 20,
    "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8,
    "nove": 9, "dieci": 10, "dodici": 12, "venti": 20,
    "dois": 2, "duas": 2, "três": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8,
    "dez": 10, "doze": 12, "vinte": 20,
}
_COUNT_UNITS = {"people": "people", "persone": "people", "pessoas": "people",
                "crew": "people", "tripulantes": "people", "militari": "people",
                "militares": "people", "soldiers": "people", "troops": "people",
                "personnel": "people", "aboard": "people", "a bordo": "people",
                "ships": "ships", "vessels": "ships", "destroyers": "ships", "frigates": "ships",
                "navi": "ships", "navios": "ships", "warships": "ships",
                "aircraft": "aircraft", "jets": "aircraft", "planes": "aircraft",
                "fighters": "aircraft", "helicopters": "aircraft", "aerei": "aircraft",
                "caccia": "aircraft", "elicotteri": "aircraft", "aeronaves": "aircraft",
                "caças": "aircraft", "helicópteros": "aircraft",
                "missiles": "missiles", "missili": "missiles", "mísseis": "missiles",
                "rockets": "missiles"}
_COUNT_WORDS = re.compile(
    r"\b(\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\s+"
    r"(?:(?:of\s+the|dei|delle|degli|de|of|the|[a-zà-ÿ-]{3,})\s+){0,2}?("
    + "|".join(sorted((re.escape(u) for u in _COUNT_UNITS), key=len, reverse=True)) + r")\b")
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-zà-ÿ][a-zà-ÿ'’]+")
_CAPITALIZED = re.compile(r"\b([A-Z][a-zà-ÿ'’]+(?:[-\s][A-Z][a-zà-ÿ'’]+)*)")
_QUOTED = re.compile(r"[「『]([^」』]{1,20})[」』]")
_KANJI_RUN = re.compile(r"[\u4e00-\u9fff々]{2,}")
_KATAKANA_RUN = re.compile(r"[\u30a1-\u30fa\u30fc]{3,}")
_TITLE_AFTER_NAME = re.compile(
    r"([\u4e00-\u9fff々]{2,4}?)(?:防衛大臣|防衛相|大臣|長官|首相|総理|幕僚長|外相|大統領|国防相|"
    r"議員|知事|市長|司令官|部长|总统|外长|司令|防卫相|首相|总理|氏)")
_PLACE_SUFFIX = re.compile(
    r"([\u4e00-\u9fff々]{1,4}?)(?:諸島|群島|列島|群岛|列岛|島|岛|海峡|県|县|省|市|町|村|沖|基地|"
    r"駐屯地|湾|岬|空港|港)")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff々]")
_WORD = re.compile(r"[a-zà-ÿ]{4,}")
_STOP = frozenset(
    "that this with from have were been their which after about into also other would "
    "said says will more than over under when where while they them there these those "
    "della delle dello degli nella nelle sono anche come dopo prima loro questo questa "
    "quello quella stato stata essere dalla dalle sulla sulle alla alle ogni tutto "
    "para pela pelo pelos pelas como mais após antes seus suas esta este isso essa esse "
    "foram será sobre entre quando onde também ainda monday tuesday wednesday thursday "
    "friday saturday sunday today yesterday news press release".split())
_NAME_STOP = frozenset(
    "the a an in on at of and for to by with from as is it its this that his her their "
    "il lo la le gli i un una di da del della nel nella per con su o e é em no na do da dos "
    "das ao os as um uma ministry minister ministro ministero ministério defense defence "
    "difesa defesa government governo according secondo segundo self forces force "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december gennaio febbraio marzo "
    "aprile maggio giugno luglio agosto settembre ottobre novembre dicembre janeiro "
    "fevereiro março abril maio junho julho setembro outubro dezembro prefecture islands island "
    "strait base sea coast city province isole isola ilha ilhas stretto estreito "
    "japanese chinese american russian korean taiwanese italian portuguese british "
    "maritime ground joint staff national military navy army marine marines agency office "
    "president secretary general chief command commander fleet group ministers foreign "
    "reuters kyodo associated press agence nhk xinhua ansa lusa agência agenzia "
    "the".split())


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", html.unescape(_TAG.sub(" ", text)))


_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _opencc():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2t"), opencc.OpenCC("t2jp")


def as_japanese_kanji(text: str) -> str:
    """Chinese text (Han characters, no kana) in Japanese kanji forms (OpenCC s2t + t2jp:
    长崎县男女群岛 -> 長崎県男女群島), so that it meets Japanese text and pykakasi reads its
    names; Japanese text (it has kana) is left as it is."""
    if not _HAN.search(text) or _KANA.search(text):
        return text
    s2t, t2jp = _opencc()
    return str(t2jp.convert(s2t.convert(text)))


@lru_cache(maxsize=65536)
def _romanize(word: str) -> tuple[str, ...]:
    """pykakasi's Hepburn words of a kanji/kana run (cached: names recur)."""
    return tuple(w for w in (part["hepburn"].strip() for part in _kakasi().convert(word)) if w)


@lru_cache(maxsize=1)
def _kakasi():  # type: ignore[no-untyped-def]
    import pykakasi

    # Its dictionary is ~280,000 lists unpickled at once: with the collector on, the load ran
    # full collections over the crawl's heap (0.5-0.9 s instead of 0.2 s), and every full
    # collection after it traversed them again (1.3 s of a 1,000-article crawl). Loaded with
    # the collector paused, then frozen out of it (gc.freeze: kept for the process's life,
    # as the dictionary is; whatever else is alive at that moment is too, once a process).
    enabled = gc.isenabled()
    gc.disable()
    try:
        kakasi = pykakasi.kakasi()
    finally:
        if enabled:
            gc.enable()
    gc.freeze()
    return kakasi


_KEY_MAP = str.maketrans({"g": "k", "z": "s", "j": "s", "d": "t", "b": "h", "p": "h",
                          "v": "h", "f": "h", "l": "r", "c": "k", "q": "k", "w": "",
                          "y": "i", "'": "", "-": "", "’": ""})


@lru_cache(maxsize=65536)
def phonetic_key(word: str) -> str:
    """A key under which a Hepburn romanization and an outlet's spelling of the same
    Japanese name meet: voicing dropped (pykakasi reads 与那国 "yonakuni", outlets write
    "Yonaguni"), long vowels folded (ō, ou, oo, uu -> o, u), l/r and c/k merged."""
    w = unicodedata.normalize("NFKD", word.lower())
    w = "".join(ch for ch in w if not unicodedata.combining(ch))
    w = w.replace("sh", "s").replace("ch", "t").replace("ts", "t").replace("ph", "f")
    w = w.translate(_KEY_MAP)
    w = re.sub(r"ou|oo", "o", w)
    w = re.sub(r"uu", "u", w)
    w = re.sub(r"ei", "e", w)
    w = re.sub(r"(.)\1+", r"\1", w)
    w = re.sub(r"n(?=[^aeiou]|$)", "n", w)
    return w


_CONCEPT_SURFACE: dict[str, str] = {}
for _concept, _spellings in CONCEPTS.items():
    for _s in _spellings:
        _CONCEPT_SURFACE.setdefault(_s.lower(), f"c:{_concept}")
for _name, _spellings in NAMES.items():
    for _s in _spellings:
        _CONCEPT_SURFACE.setdefault(_s.lower(), f"p:{phonetic_key(_name.replace('_', ''))}")
# Chinese spellings also in the Japanese kanji forms Chinese text is read in.
for _s, _token in list(_CONCEPT_SURFACE.items()):
    _CONCEPT_SURFACE.setdefault(as_japanese_kanji(_s).lower(), _token)


_LATIN_CONCEPT = re.compile(
    r"(?<![\w.])(" + trie_pattern(s for s in _CONCEPT_SURFACE if not _CJK.search(s))
    + r")(?!\w)", re.IGNORECASE)
_CJK_CONCEPT = re.compile(trie_pattern(s for s in _CONCEPT_SURFACE if _CJK.search(s)))


_COUNTS = frozenset({"people", "ships", "aircraft", "missiles"})


def _amount_token(value: float, unit: str) -> str:
    if value <= 0 or (unit in _COUNTS and value < 2):  # "1機", "a ship": no fact
        return ""
    digits = 3 if unit in ("yen", "usd", "eur") else 4
    rounded = round(value, -int(math.floor(math.log10(value))) + digits - 1)
    return f"n:{rounded:.6g}:{unit}"


def _latin_number(text: str) -> float | None:
    t = text
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", t):
        t = t.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", t):  # 1.235,5 (Italian, Portuguese)
        t = t.replace(".", "").replace(",", ".")
    else:
        t = t.replace(",", ".")
    try:
        return float(t)
    except ValueError:
        return None


def _facts(text: str, lowered: str) -> set[str]:
    facts: set[str] = set()
    for m in _DESIGNATOR.finditer(text):
        letters, digits, tail = m.groups()
        if len(letters) + len(digits) + len(tail) >= 2 and not (1900 <= int(digits) <= 2100
                                                               and not tail and len(letters) > 2):
            facts.add(f"d:{letters}{int(digits)}{tail}")
    for m in _JP_TIME.finditer(text):
        hour = int(m.group(2)) + (12 if m.group(1) == "午後" and int(m.group(2)) < 12 else 0)
        facts.add(f"t:{hour:02d}{int(m.group(3) or 0):02d}")
    for m in _LATIN_TIME.finditer(text):
        hour, minute, ap = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
        if not ap and m.group(2) is None:
            continue
        if ap.startswith("p") and hour < 12:
            hour += 12
        if hour < 24 and minute < 60 and (ap or ":" in m.group(0)) and not (ap and hour > 23):
            facts.add(f"t:{hour:02d}{minute:02d}")
    for m in _COUNT_WORDS.finditer(lowered):
        number = m.group(1)
        value = float(number) if number.isdigit() else float(_NUMBER_WORDS[number])
        token = _amount_token(value, _COUNT_UNITS[m.group(2)])
        if token:
            facts.add(token)
    for m in _LATIN_AMOUNT.finditer(lowered):
        currency, number, scale, unit = m.groups()
        if not (currency or scale or unit):
            continue
        amount = _latin_number(number)
        if amount is None:
            continue
        if scale:
            amount *= _SCALE_WORDS[scale.lower()]
        unit_key = _UNIT_WORDS.get((unit or currency or "").lower(), "")
        if not unit_key:
            continue
        token = _amount_token(amount, unit_key)
        if token:
            facts.add(token)
    return facts


# A number, then 兆/億/万 parts and a unit; the lookahead skips the positions where no
# number starts (a match without one is no amount).
_CJK_AMOUNT = re.compile(r"(?=\d)(?:(\d+(?:\.\d+)?)兆)?(?:(\d+(?:\.\d+)?)億)?(?:(\d+(?:\.\d+)?)万)?"
                         r"(\d+(?:\.\d+)?)?\s*(円|ドル|美元|日元|ユーロ|欧元|人|名|隻|機|发|発|艘|架|"
                         r"キロ|トン|吨|枚)")


def _cjk_amounts(text: str) -> set[str]:
    """Japanese/Chinese amounts with 兆/億/万: 1235億3000万円 -> 1.2353e11 yen."""
    out: set[str] = set()
    for m in _CJK_AMOUNT.finditer(text):
        cho, oku, man, rest, unit = m.groups()
        if not any((cho, oku, man, rest)):
            continue
        value = (float(cho or 0) * 1e12 + float(oku or 0) * 1e8 + float(man or 0) * 1e4
                 + float(rest or 0))
        token = _amount_token(value, _UNIT_WORDS[unit])
        if token:
            out.add(token)
    return out


@dataclass(frozen=True)
class Features:
    lang: str  # "cjk" or "latin": which word tokens compare
    date: EventDate
    facts: frozenset[str]  # d: designators, n: amounts, t: times, p: names, c: concepts
    words: frozenset[str]
    title_words: tuple[str, ...] = ()  # the title's first words (keys of the index)


def _names(text: str) -> set[str]:
    """Names of people and places as phonetic keys (``p:``)."""
    names: set[str] = set()
    for run in _TITLE_AFTER_NAME.findall(text) + _PLACE_SUFFIX.findall(text):
        key = phonetic_key("".join(_romanize(run)))
        if len(key) >= 4:
            names.add(f"p:{key}")
    for quoted in _QUOTED.findall(text):
        key = phonetic_key("".join(_romanize(quoted)))
        if len(key) >= 3:
            names.add(f"p:{key}")
    for run in _KATAKANA_RUN.findall(text):
        if run.lower() in _CONCEPT_SURFACE:
            continue  # a word of the lexicon (ミサイル), not a name
        key = phonetic_key("".join(_romanize(run)))
        if len(key) >= 4:
            names.add(f"p:{key}")
    lowered_words: set[str] | None = None
    for m in _CAPITALIZED.finditer(text):
        for word in re.split(r"[-\s]", m.group(1)):
            if word.lower() in _NAME_STOP or len(word) < 4 or word.lower() in _CONCEPT_SURFACE:
                continue
            if lowered_words is None:
                lowered_words = set(_LOWER_WORD.findall(text))
            if word.lower() in lowered_words:
                # The text writes it in lower case too: a word capitalized by a Title Case
                # headline or a sentence's start ("First ... fighters arrive"), not a name.
                continue
            names.add(f"p:{phonetic_key(word)}")
    return names


# Japanese writes the countries of a meeting or a joint programme one kanji each: 日英伊
# (Japan, the UK and Italy), 日米豪印, 米英豪. Three or more such kanji in a row are always
# that; two only before a word that says so (日中 alone is also "daytime", 中日 "mid-day").
_COUNTRY_KANJI = {"日": "japan", "米": "usa", "英": "uk", "伊": "italy", "豪": "australia",
                  "仏": "france", "独": "germany", "中": "china", "韓": "korea_s",
                  "露": "russia", "印": "india", "比": "philippines"}
_COUNTRY_RUN = re.compile(
    "(?<![\u3040-\u30ff\u4e00-\u9fff])([" + "".join(_COUNTRY_KANJI) + "]{3,5}"
    "|[" + "".join(_COUNTRY_KANJI) + "]{2}(?=首脳|外相|防衛相|国防相|両国|共同|合同|間|関係|会談"
    "|協議|対話|連携|協力|同盟|訓練|演習|安保|戦略))")


def _concepts(text: str, lowered: str) -> set[str]:
    found = {_CONCEPT_SURFACE[m.group(1).lower()] for m in _LATIN_CONCEPT.finditer(text)}
    found |= {_CONCEPT_SURFACE[m.group(0).lower()] for m in _CJK_CONCEPT.finditer(lowered)}
    for m in _COUNTRY_RUN.finditer(text):
        run = m.group(1)
        if len(set(run)) == len(run):  # (each country once: 日日 is no pair)
            found |= {f"c:{_COUNTRY_KANJI[k]}" for k in run}
    return found


_CJK_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff々]+")


def _is_cjk(text: str) -> bool:
    # (characters counted by runs: a list of the runs, not one string per character)
    return sum(map(len, _CJK_RUN.findall(text))) * 3 >= len(text.strip())


def _words(text: str, lowered: str, cjk: bool) -> list[str]:
    """CJK character bigrams (no word spaces to split on), or Latin word stems (the first
    six letters: "missile"/"missili"/"mísseis" stay apart, "launch"/"launched" meet)."""
    if cjk:
        grams: list[str] = []
        for run in re.findall(r"[\u3040-\u30ff\u4e00-\u9fff々]+", text):
            grams.extend(run[i:i + 2] for i in range(len(run) - 1))
        return list(dict.fromkeys(grams))
    return list(dict.fromkeys(w[:6] for w in _WORD.findall(lowered) if w not in _STOP))


def features(title: str, text: str, published: datetime | None, *, lead_chars: int = 600
             ) -> Features:
    title_n = as_japanese_kanji(_norm(title))
    body = as_japanese_kanji(_norm(text)[:lead_chars])
    both = f"{title_n}\n{body}"
    lowered = both.lower()
    facts = _facts(both, lowered) | _cjk_amounts(both) | _names(both) | _concepts(both, lowered)
    cjk = _is_cjk(both)
    words = _words(both, lowered, cjk)
    title_words = _words(title_n, title_n.lower(), cjk)
    return Features("cjk" if cjk else "latin", event_date(title_n, body, published),
                    frozenset(facts), frozenset(words), tuple(title_words))
