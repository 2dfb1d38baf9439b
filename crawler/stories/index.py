"""The story index: which stored articles a new one is compared with, and the decision.

Candidates come from posting lists keyed by (token, ISO week of the event): an article is
filed under its specific facts (designators, amounts, times, names), the pairs of concepts it
names (``japan+philippines`` is rare in a week where ``japan`` alone is everywhere) and the
first words of its title, in each week its event can fall in. A new article looks up its own
keys in the weeks around its event date, so the work per article grows with the number of
candidates that share a key in that window, not with the size of the store.

Why not datasketch's MinHash LSH: it estimates the Jaccard similarity of whole token sets,
and two one-sentence reports of the same event in two languages share three or four tokens
out of thirty (Jaccard below 0.15), where banding either misses them or returns every article
that names Japan; and its in-memory tables keep a set per article and band. Exact posting lists over the specific tokens are the standard
alternative (an inverted index) and cost one list entry per key.

The decision (:meth:`StoryIndex.decide`) scores each candidate: the weight of the facts both
articles state, plus, in the same script, the overlap of their words; two articles cannot be
one story when their event days differ, when one states a follow-up fact the other does not
(a wreck found, a death confirmed), or when both give designators or times of day and none
agree. The new article joins the story of its best candidate when the score reaches
``THRESHOLD``; otherwise it starts its own story, whose id is its own article id. A story is
never split: an article keeps the story it was given.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

from crawler.stories.features import EventDate, Features
from crawler.stories.lexicon import FOLLOW_UP

FEATURES_VERSION = 1
THRESHOLD = 3.0
WEIGHTS = {"d": 3.0, "n": 3.0, "t": 2.5, "p": 2.0, "c": 0.5}
WORDS_WEIGHT = 4.0
TITLE_KEY_WORDS = 6
_FOLLOW_UP = frozenset(f"c:{k}" for k in FOLLOW_UP)
_GENERIC = frozenset({"c:japan", "c:defense_ministry", "c:defense_minister", "c:navy",
                      "c:air_force", "c:army", "c:k:accident"})


@dataclass
class Member:
    """One article of the index (kept small: 100,000 of them stay in memory)."""

    article_id: str
    story: str
    lang: str
    lo: int  # event day interval, as date ordinals
    hi: int
    day: int  # the written event day (0: none)
    soft: bool
    facts: tuple[str, ...]
    words: array[int]


@dataclass
class Decision:
    story: str
    joined: str | None  # the member it was matched with (None: a new story)
    score: float
    candidates: int


def _crc(token: str) -> int:
    return zlib.crc32(token.encode("utf-8"))


def member_of(article_id: str, story: str, f: Features) -> Member:
    d = f.date
    return Member(article_id, story, f.lang, d.lo.toordinal(), d.hi.toordinal(),
                  d.day.toordinal() if d.day and not d.soft else 0, d.soft,
                  tuple(sorted(f.facts)), array("I", sorted({_crc(w) for w in f.words})))


def features_json(f: Features) -> dict[str, Any]:
    d = f.date
    return {"v": FEATURES_VERSION, "lang": f.lang,
            "day": d.day.isoformat() if d.day else None, "soft": d.soft,
            "lo": d.lo.isoformat(), "hi": d.hi.isoformat(),
            "facts": sorted(f.facts), "words": sorted(f.words),
            "title_words": list(f.title_words)}


def features_from_json(data: dict[str, Any]) -> Features:
    day = date.fromisoformat(data["day"]) if data.get("day") else None
    ev = EventDate(day, bool(data["soft"]), date.fromisoformat(data["lo"]),
                   date.fromisoformat(data["hi"]))
    return Features(data["lang"], ev, frozenset(data["facts"]), frozenset(data["words"]),
                    tuple(data.get("title_words") or ()))


def keys(f: Features) -> set[str]:
    """The tokens an article is filed under."""
    out = {t for t in f.facts if t[0] in "dntp"}
    concepts = sorted(t for t in f.facts if t[0] == "c" and t not in _GENERIC)
    out.update(f"{a}+{b}" for a, b in combinations(concepts, 2))
    if len(concepts) == 1:
        out.add(concepts[0])
    out.update(f"w:{w}" for w in f.title_words[:TITLE_KEY_WORDS])
    return out


def _weeks(lo: int, hi: int) -> range:
    return range(lo // 7, hi // 7 + 1)


@dataclass
class StoryIndex:
    members: list[Member] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)
    postings: dict[int, list[int]] = field(default_factory=dict)
    story_size: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.members)

    def story_of(self, article_id: str) -> str | None:
        n = self.by_id.get(article_id)
        return self.members[n].story if n is not None else None

    def add(self, member: Member, key_tokens: Iterable[str]) -> None:
        if member.article_id in self.by_id:
            return
        n = len(self.members)
        self.members.append(member)
        self.by_id[member.article_id] = n
        self.story_size[member.story] = self.story_size.get(member.story, 0) + 1
        weeks = _weeks(member.lo, member.hi)
        for token in key_tokens:
            base = _crc(token)
            for week in weeks:
                self.postings.setdefault(base * 4099 + week, []).append(n)

    def candidates(self, f: Features, key_tokens: Iterable[str]) -> Iterator[Member]:
        """Members filed under one of ``key_tokens`` whose event days can meet ``f``'s."""
        lo, hi = f.date.lo.toordinal() - 1, f.date.hi.toordinal() + 1
        seen: set[int] = set()
        weeks = _weeks(lo, hi)
        for token in key_tokens:
            base = _crc(token)
            for week in weeks:
                for n in self.postings.get(base * 4099 + week, ()):
                    if n not in seen:
                        seen.add(n)
                        m = self.members[n]
                        if m.lo <= hi and m.hi >= lo:
                            yield m

    def decide(self, article_id: str, f: Features) -> Decision:
        """The story of a new article (its stored one when it has one)."""
        known = self.story_of(article_id)
        if known is not None:
            return Decision(known, None, 0.0, 0)
        key_tokens = keys(f)
        best: tuple[float, str, str] | None = None
        count = 0
        words = {_crc(w) for w in f.words}
        for m in self.candidates(f, key_tokens):
            count += 1
            s = score(f, words, m)
            if s >= THRESHOLD and (best is None or s > best[0]
                                   or (s == best[0] and m.story < best[1])):
                best = (s, m.story, m.article_id)
        story = best[1] if best else article_id
        decision = Decision(story, best[2] if best else None, best[0] if best else 0.0, count)
        self.add(member_of(article_id, story, f), key_tokens)
        return decision


def compatible_dates(f: Features, m: Member) -> bool:
    d = f.date
    if d.day is not None and not d.soft and m.day:
        return d.day.toordinal() == m.day
    slack = 1 if (d.soft and d.day is not None) or (m.soft and m.day == 0 and m.hi - m.lo <= 2) \
        else 0
    return d.lo.toordinal() - slack <= m.hi and m.lo <= d.hi.toordinal() + slack


def score(f: Features, words: set[int], m: Member) -> float:
    """How strongly the stated facts say one event (0 when they say two)."""
    if not compatible_dates(f, m):
        return 0.0
    mine = f.facts
    theirs = frozenset(m.facts)
    if (mine & _FOLLOW_UP) != (theirs & _FOLLOW_UP):
        return 0.0
    shared = mine & theirs
    for kind in ("d", "t"):
        a = {t for t in mine if t[0] == kind}
        b = {t for t in theirs if t[0] == kind}
        if a and b and not (a & b):
            return 0.0
    total = sum(WEIGHTS[t[0]] for t in shared)
    if f.lang == m.lang and words and len(m.words):
        common = len(words.intersection(m.words))
        total += WORDS_WEIGHT * common / min(len(words), len(m.words))
    return total
