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
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

from crawler.stories.features import EventDate, Features
from crawler.stories.lexicon import FOLLOW_UP

FEATURES_VERSION = 1
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
CONCEPT_IDF_WEIGHT = 1.5


def _weight(token: str) -> float:
    if token[0] == "c":
        return GENERIC_WEIGHT if token in _GENERIC else WEIGHTS["c"]
    return WEIGHTS[token[0]]


@dataclass
class Member:
    """One article of the index (kept small: 100,000 of them stay in memory)."""

    article_id: str
    story: str
    lang: str
    lo: int  # event day interval, as date ordinals
    hi: int
    day: int  # the event day read from the text (0: none)
    soft: bool  # the day is a weekday or "yesterday" read against the outlet's date
    facts: tuple[str, ...]
    words: array[int]


@dataclass
class Decision:
    story: str
    joined: str | None  # the member it was matched with (None: a new story)
    score: float
    candidates: int
    merged: list[str] = field(default_factory=list)  # stories joined into ``story``


def _crc(token: str) -> int:
    return zlib.crc32(token.encode("utf-8"))


def member_of(article_id: str, story: str, f: Features) -> Member:
    d = f.date
    return Member(article_id, story, f.lang, d.lo.toordinal(), d.hi.toordinal(),
                  d.day.toordinal() if d.day else 0, d.soft,
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
    story_members: dict[str, list[int]] = field(default_factory=dict)
    concept_df: dict[str, int] = field(default_factory=dict)  # articles naming each concept

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
        self.story_members.setdefault(member.story, []).append(n)
        for t in member.facts:
            if t[0] == "c":
                self.concept_df[t] = self.concept_df.get(t, 0) + 1
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
        scores: dict[str, list[tuple[float, str]]] = {}  # story -> [(score, member)]
        count = 0
        words = {_crc(w) for w in f.words}
        for m in self.candidates(f, key_tokens):
            count += 1
            s = score(f, words, m, self.concept_weight)
            if s >= CORROBORATING:
                scores.setdefault(m.story, []).append((s, m.article_id))
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
        self.add(member_of(article_id, decision.story, f), key_tokens)
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


def compatible_dates(f: Features, m: Member) -> bool:
    """Two written days must be the same day; otherwise the intervals of possible days
    (a weekday: its day ±1; no day: the days before publication) must meet."""
    d = f.date
    if d.day is not None and not d.soft and m.day and not m.soft:
        return d.day.toordinal() == m.day
    return d.lo.toordinal() <= m.hi and m.lo <= d.hi.toordinal()


def score(f: Features, words: set[int], m: Member,
          concept_weight: Callable[[str], float] | None = None) -> float:
    """How strongly the stated facts say one event (0 when they say two)."""
    if not compatible_dates(f, m):
        return 0.0
    mine = f.facts
    theirs = frozenset(m.facts)
    if (mine & _FOLLOW_UP) != (theirs & _FOLLOW_UP):
        return 0.0
    shared = mine & theirs
    times = ({t for t in mine if t[0] == "t"}, {t for t in theirs if t[0] == "t"})
    if times[0] and times[1] and not (times[0] & times[1]):
        return 0.0  # both give the time of day, and no time agrees: two events
    total = sum(concept_weight(t) if concept_weight and t[0] == "c" else _weight(t)
                for t in shared)
    designators = ({t for t in mine if t[0] == "d"}, {t for t in theirs if t[0] == "d"})
    if designators[0] and designators[1] and not (designators[0] & designators[1]):
        total -= WEIGHTS["d"]  # other aircraft or ships; but each outlet names only some
    if f.date.day is not None and m.day and f.date.day.toordinal() == m.day:
        total += SAME_DAY_WEIGHT * (0.5 if f.date.soft or m.soft else 1.0)
    if f.lang == m.lang and words and len(m.words):
        common = len(words.intersection(m.words))
        total += WORDS_WEIGHT * common / min(len(words), len(m.words))
    return total
