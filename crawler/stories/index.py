"""The story index: which stored articles a new one is compared with, and the decision.

Candidates come from posting lists keyed by a token and a day or a week: an article is filed
under its specific facts (designators, amounts, times, names), the pairs of concepts it names
(``japan+philippines`` is rare in a week where ``japan`` alone is everywhere) and the first
words of its title; under its event day when the text writes it, else under each week its
event can fall in. A new article looks up its own keys: with a written day, in that day's
lists and the weeks' (two written days must be the same day, so the other days of the week
are never compared); without one, in the lists of every day and week of its interval. The
work per article grows with the number of candidates that share a key in that window, not
with the size of the store, and the comparison itself (:class:`_Probe`) works on sets made
once per article, in C.

Why not datasketch's MinHash LSH: it estimates the Jaccard similarity of whole token sets,
and two one-sentence reports of the same event in two languages share three or four tokens
out of thirty (Jaccard below 0.15), where banding either misses them or returns every article
that names Japan; and its in-memory tables keep a set per article and band. Exact posting lists over the specific tokens are the standard
alternative (an inverted index) and cost one list entry per key.

The decision (:meth:`StoryIndex.decide`) scores each candidate: the weight of the facts both
articles state (a concept weighs by how few articles of the index name it), the same written
event day, and, in the same script, the overlap of their words; two articles cannot be one
story when their event days differ, when one states a follow-up fact the other does not (a
wreck found, a death confirmed), or when both give times of day and none agree (designators
that disagree count against). A story's evidence is its best member's score plus half its
second best's (outlets corroborate each other). The new article joins the story with the most
evidence when it reaches ``THRESHOLD``, and joins two stories into the older one when both
reach ``MERGE_THRESHOLD``; otherwise it starts its own story, whose id is its own article id.
A story is never split: an article keeps the story it was given (a merge only renames).
"""

from __future__ import annotations

import math
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

from crawler.stories.features import EventDate, Features
from crawler.stories.lexicon import FOLLOW_UP

FEATURES_VERSION = 3  # 2: countries one kanji each (日英伊); 3: a word also written in lower case is no name
THRESHOLD = 3.0
# A new article that matches two stories this well joins them into one (the older one's id
# stays): outlets that name different facts of one event had made two stories of it.
MERGE_THRESHOLD = 4.0
# A story's second best match adds this share of its score (matches from CORROBORATING up).
CORROBORATION = 0.5
CORROBORATING = 1.0
WEIGHTS = {"d": 3.0, "n": 3.0, "t": 2.5, "p": 2.0, "c": 0.75}
WORDS_WEIGHT = 4.0
# Both texts write the same event day: a fact like the others (a weekday or "yesterday",
# read against the outlet's own date, counts half).
SAME_DAY_WEIGHT = 1.0
TITLE_KEY_WORDS = 6
_FOLLOW_UP = frozenset(f"c:{k}" for k in FOLLOW_UP)
_GENERIC = frozenset({"c:japan", "c:china", "c:usa", "c:defense_ministry",
                      "c:defense_minister", "c:navy", "c:air_force", "c:army", "c:k:accident"})
GENERIC_WEIGHT = 0.25  # a concept nearly every article of the field names
# A name (a place, a person) that is the only fact two reports share counts half: reports of
# one region name its places whatever the event ("long-range fires on the Hokkaido range" and
# "F-15Js arrive at Chitose, Hokkaido" were one story on Hokkaido and a few common words).
# The labelled set (bench/bench_stories.py) scores the same with it.
SINGLE_NAME = 0.5
CONCEPT_IDF_WEIGHT = 1.5


def _weight(token: str) -> float:
    if token[0] == "c":
        return GENERIC_WEIGHT if token in _GENERIC else WEIGHTS["c"]
    return WEIGHTS[token[0]]


_NONE: frozenset[str] = frozenset()


def _fact_sets(facts: frozenset[str]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The facts a comparison looks at first: follow-up facts, times, designators (one
    shared empty set when there are none, as for most articles)."""
    times: list[str] = []
    designators: list[str] = []
    for t in facts:
        kind = t[0]
        if kind == "t":
            times.append(t)
        elif kind == "d":
            designators.append(t)
    return ((facts & _FOLLOW_UP) or _NONE, frozenset(times) if times else _NONE,
            frozenset(designators) if designators else _NONE)


@dataclass(slots=True)
class Member:
    """One article of the index (kept small: 100,000 of them stay in memory). The fact sets
    a comparison needs are made once, when the article joins the index, not per comparison:
    a member is compared with every later article that shares a key with it."""

    article_id: str
    story: str
    lang: str
    lo: int  # event day interval, as date ordinals
    hi: int
    day: int  # the event day read from the text (0: none)
    soft: bool  # the day is a weekday or "yesterday" read against the outlet's date
    facts: frozenset[str]
    words: array[int]
    follow_up: frozenset[str] = _NONE  # facts of _FOLLOW_UP
    times: frozenset[str] = _NONE
    designators: frozenset[str] = _NONE


@dataclass
class Decision:
    story: str
    joined: str | None  # the member it was matched with (None: a new story)
    score: float
    candidates: int
    merged: list[str] = field(default_factory=list)  # stories joined into ``story``


def _crc(token: str) -> int:
    return zlib.crc32(token.encode("utf-8"))


def word_codes(f: Features) -> frozenset[int]:
    """The article's words as the hashes of their strings (what a member keeps of them: 8
    bytes a word; only ever compared within one process, and a string caches its hash)."""
    return frozenset(map(hash, f.words))


def member_of(article_id: str, story: str, f: Features, probe: _Probe | None = None) -> Member:
    """The index's member for an article (``probe``: its view as a new article, when it was
    just decided: the same sets)."""
    facts = frozenset(map(sys.intern, f.facts))
    if probe is not None:
        follow_up, times, designators = probe.follow_up, probe.times, probe.designators
        words = probe.words
    else:
        follow_up, times, designators = _fact_sets(facts)
        words = word_codes(f)
    d = f.date
    return Member(article_id, story, f.lang, d.lo.toordinal(), d.hi.toordinal(),
                  d.day.toordinal() if d.day else 0, d.soft, facts, array("q", words),
                  follow_up, times, designators)


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


def _bases(key_tokens: Iterable[str]) -> list[int]:
    """Where each key's posting lists are: its CRC-32 shifted left by 20 bits, plus the day
    (a date ordinal) or the week."""
    return [_crc(t) << 20 for t in key_tokens]


def _firm(m: Member | _Probe) -> bool:
    """The event day is written (not a weekday or "yesterday"): it meets only that day."""
    return bool(m.day) and not m.soft


def _weeks(lo: int, hi: int) -> range:
    return range(lo // 7, hi // 7 + 1)


def _file(postings: dict[int, list[int]], bases: list[int], slots: Iterable[int],
          n: int) -> None:
    for base in bases:
        for slot in slots:
            found = postings.get(base | slot)
            if found is None:
                postings[base | slot] = [n]
            else:
                found.append(n)


def _collect(postings: dict[int, list[int]], bases: list[int], slots: Iterable[int],
             into: list[list[int]]) -> None:
    get = postings.get
    for base in bases:
        for slot in slots:
            found = get(base | slot)
            if found is not None:
                into.append(found)


@dataclass
class StoryIndex:
    members: list[Member] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)
    # Posting lists: (key, day) for articles whose event day is written; (key, week) for
    # the others. Two written days must be the same day (``_Probe.score``), so an
    # article with a written day is compared only with that day's articles, not the week's.
    day_postings: dict[int, list[int]] = field(default_factory=dict)
    postings: dict[int, list[int]] = field(default_factory=dict)
    story_size: dict[str, int] = field(default_factory=dict)
    story_members: dict[str, list[int]] = field(default_factory=dict)
    concept_df: dict[str, int] = field(default_factory=dict)  # articles naming each concept

    def __len__(self) -> int:
        return len(self.members)

    def story_of(self, article_id: str) -> str | None:
        n = self.by_id.get(article_id)
        return self.members[n].story if n is not None else None

    def add(self, member: Member, key_tokens: Iterable[str]) -> None:
        self._add(member, _bases(key_tokens))

    def _add(self, member: Member, bases: list[int]) -> None:
        if member.article_id in self.by_id:
            return
        n = len(self.members)
        self.members.append(member)
        self.by_id[member.article_id] = n
        self.story_size[member.story] = self.story_size.get(member.story, 0) + 1
        self.story_members.setdefault(member.story, []).append(n)
        for t in member.facts:
            if t[0] == "c":
                self.concept_df[t] = self.concept_df.get(t, 0) + 1
        if _firm(member):
            _file(self.day_postings, bases, (member.day,), n)
            if member.lo == member.hi == member.day:
                return
        # Filed by week over its interval (also a written day whose interval says more).
        _file(self.postings, bases, _weeks(member.lo, member.hi), n)

    def candidates(self, f: Features, key_tokens: Iterable[str]) -> Iterator[Member]:
        """Members filed under one of ``key_tokens`` whose event days can meet ``f``'s: all
        those a comparison can find one event with (and a few it cannot)."""
        members = self.members
        for n in self._filed(_Probe(f), _bases(key_tokens)):
            yield members[n]

    def _filed(self, probe: _Probe, bases: list[int]) -> set[int]:
        """The members filed under one of the keys (``_bases``) whose days can meet the
        probe's: with a written day, that day's and the weeks' of the others; else the days
        and weeks of its interval (one set union of the posting lists, in C)."""
        lists: list[list[int]] = []
        days = (probe.day,) if _firm(probe) else range(probe.lo, probe.hi + 1)
        _collect(self.day_postings, bases, days, lists)
        _collect(self.postings, bases, _weeks(probe.lo, probe.hi), lists)
        return set().union(*lists)

    def decide(self, article_id: str, f: Features) -> Decision:
        """The story of a new article (its stored one when it has one)."""
        known = self.story_of(article_id)
        if known is not None:
            return Decision(known, None, 0.0, 0)
        bases = _bases(keys(f))
        probe = _Probe(f, self.concept_weight)
        scores: dict[str, list[tuple[float, str]]] = {}  # story -> [(score, member)]
        members = self.members
        filed = self._filed(probe, bases)
        count = len(filed)
        for n in filed:
            m = members[n]
            s = probe.score(m)
            if s >= CORROBORATING:
                found = scores.get(m.story)
                if found is None:
                    scores[m.story] = [(s, m.article_id)]
                else:
                    found.append((s, m.article_id))
        by_story: dict[str, tuple[float, int, str]] = {}  # story -> (score, -first, member)
        for story_id, found in scores.items():
            found.sort(reverse=True)
            # Another article of the story that agrees too adds to the evidence: reports
            # of one event by several outlets corroborate each other.
            total = found[0][0] + (CORROBORATION * found[1][0] if len(found) > 1 else 0.0)
            if total >= THRESHOLD:
                by_story[story_id] = (total, -self.story_members[story_id][0], found[0][1])
        if not by_story:
            decision = Decision(article_id, None, 0.0, count)
        else:
            ranked = sorted(by_story.items(), key=lambda kv: (kv[1][0], kv[1][1]), reverse=True)
            story, (s, _, member) = ranked[0]
            others = [k for k, v in ranked[1:] if v[0] >= MERGE_THRESHOLD]
            if s < MERGE_THRESHOLD:
                others = []
            decision = Decision(story, member, s, count)
            if others:
                # The oldest story keeps its id; the others join it.
                story = min([story, *others], key=lambda k: self.story_members[k][0])
                decision.merged = [k for k in [ranked[0][0], *others] if k != story]
                decision.story = story
                for old in decision.merged:
                    self.merge(old, story)
        self._add(member_of(article_id, decision.story, f, probe), bases)
        return decision

    def concept_weight(self, token: str) -> float:
        """A concept weighs more the fewer articles name it (inverse document frequency):
        "security strategy" says more than "missile"."""
        if token in _GENERIC:
            return GENERIC_WEIGHT
        n = len(self.members)
        if n < 50:
            return WEIGHTS["c"]
        df = self.concept_df.get(token, 0)
        return GENERIC_WEIGHT + CONCEPT_IDF_WEIGHT * math.log((n + 1) / (df + 1)) / math.log(n + 1)

    def merge(self, old: str, into: str) -> None:
        """Story ``old`` joins ``into`` (its members take ``into``'s id)."""
        moved = self.story_members.pop(old, [])
        for n in moved:
            self.members[n].story = into
        self.story_members.setdefault(into, []).extend(moved)
        self.story_members[into].sort()
        self.story_size[into] = self.story_size.get(into, 0) + self.story_size.pop(old, 0)


class _Probe:
    """A new article as its comparisons need it: what depends on it alone (its fact sets,
    the weight of each of its facts in the index as it is) is worked out once per decision,
    not once per candidate."""

    __slots__ = ("day", "designators", "facts", "firm_day", "follow_up", "hi", "lang", "lo",
                 "soft", "times", "weights", "words")

    def __init__(self, f: Features, concept_weight: Callable[[str], float] | None = None
                 ) -> None:
        d = f.date
        self.lang = f.lang
        self.lo, self.hi = d.lo.toordinal(), d.hi.toordinal()
        self.day = d.day.toordinal() if d.day else 0
        self.soft = d.soft
        self.firm_day = self.day if self.day and not d.soft else 0  # a day as written
        self.facts = f.facts
        self.follow_up, self.times, self.designators = _fact_sets(f.facts)
        # The weights of this article's facts (a shared fact is one of them).
        self.weights = {t: concept_weight(t) if concept_weight and t[0] == "c" else _weight(t)
                        for t in f.facts}
        self.words = word_codes(f)

    def score(self, m: Member) -> float:
        """How strongly the stated facts say one event (0 when they say two). Two written
        days must be the same day; otherwise the intervals of possible days (a weekday: its
        day ±1; no day: the days before publication) must meet."""
        if self.firm_day and m.day and not m.soft:
            if self.firm_day != m.day:
                return 0.0
        elif self.lo > m.hi or m.lo > self.hi:
            return 0.0
        if self.follow_up != m.follow_up:
            return 0.0
        if self.times and m.times and self.times.isdisjoint(m.times):
            return 0.0  # both give the time of day, and no time agrees: two events
        shared = self.facts & m.facts
        total = sum(map(self.weights.__getitem__, shared))
        if len(shared) == 1 and next(iter(shared))[0] == "p":
            total *= SINGLE_NAME  # one place or person in common, nothing else
        if self.designators and m.designators and self.designators.isdisjoint(m.designators):
            total -= WEIGHTS["d"]  # other aircraft or ships; but each outlet names only some
        if self.day and self.day == m.day:
            total += SAME_DAY_WEIGHT * (0.5 if self.soft or m.soft else 1.0)
        if self.lang == m.lang and self.words and len(m.words):
            common = len(self.words.intersection(m.words))
            total += WORDS_WEIGHT * common / min(len(self.words), len(m.words))
        return total

