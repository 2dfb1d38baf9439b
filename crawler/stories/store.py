"""Stories in the store: ``article_stories`` (article -> story, with the features decided on).

The decision for new articles is taken inside one transaction that holds the store's story
lock (PostgreSQL: a transaction-scoped advisory lock; SQLite: ``BEGIN IMMEDIATE``, the
database's write lock). Before deciding, the process reads the rows other processes added
since its last look (``seq`` is increasing), so every crawler of a shared frontier and every
Scrapyd process decides against the same stories, in one order: the one ``seq`` records.

An article keeps the story it was given (re-crawls never change it). ``rebuild`` decides
every article again in that same order, from the stored articles; it reports how many
changed story, so a change of the rules is never a silent split.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawler.items import ArticleItem
from crawler.stories.features import Features, features
from crawler.stories.index import (
    FEATURES_VERSION,
    StoryIndex,
    features_from_json,
    features_json,
    keys,
    member_of,
)

logger = logging.getLogger(__name__)

STORIES_TABLE = """
CREATE TABLE IF NOT EXISTS article_stories (
    seq {autoid},
    article_id TEXT NOT NULL UNIQUE,
    story TEXT NOT NULL,
    features TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS article_stories_story ON article_stories (story)
"""

_TAG = re.compile(r"<[^>]+>")


def article_features(item: ArticleItem) -> Features:
    """The features of a stored or crawled article: its title, summary and lead."""
    lead = item.summary or ""
    if item.content_html and len(lead) < 400:
        lead = f"{lead}\n{_TAG.sub(' ', item.content_html[:4000])}"
    return features(item.title, lead, item.published or item.first_seen)


def _features_text(f: Features) -> str:
    return json.dumps(features_json(f), ensure_ascii=False)


@dataclass
class RebuildReport:
    articles: int
    stories: int
    multi_article: int  # stories of two or more articles (of any sources)
    moved: int  # articles whose story changed
    recomputed: int  # articles whose features were computed again
    seconds: float


class StoryStore:
    """The index of one process over the store's stories."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.index = StoryIndex()
        self.last_seq = 0

    def _lock(self, cur: Any) -> None:
        if self.store.dialect == "postgres":
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('defnews-stories:' || current_schema()))")
            cur.fetchone()

    def _catch_up(self, cur: Any) -> None:
        cur.execute(self.store._sql(
            "SELECT seq, article_id, story, features FROM article_stories WHERE seq > ?"
            " ORDER BY seq"), (self.last_seq,))
        for seq, article_id, story, data in cur.fetchall():
            self.last_seq = max(self.last_seq, int(seq))
            if article_id in self.index.by_id:
                continue
            decoded = json.loads(data)
            # Stories another process joined into this one when it decided this article.
            for old in decoded.get("merged") or ():
                if old in self.index.story_members and old != story:
                    self.index.merge(old, str(story))
            f = features_from_json(decoded)
            self.index.add(member_of(str(article_id), str(story), f), keys(f))

    def load(self) -> None:
        with self.store.transaction() as cur:
            self._catch_up(cur)

    def assign(self, articles: Sequence[tuple[str, Features]]) -> list[str]:
        """The story of each (article id, features): its stored one, or decided now and
        stored, all in one transaction under the story lock."""
        out: list[str] = []
        with self.store.transaction() as cur:
            self._lock(cur)
            self._catch_up(cur)
            rows: list[tuple[str, str, str]] = []
            for article_id, f in articles:
                known = self.index.story_of(article_id)
                if known is not None:
                    out.append(known)
                    continue
                decision = self.index.decide(article_id, f)
                out.append(decision.story)
                data = features_json(f)
                if decision.merged:
                    # Two stories the article matched become one: their rows take the older
                    # story's id (a merge renames; nothing is split).
                    data["merged"] = decision.merged
                    marks = ", ".join("?" for _ in decision.merged)
                    cur.execute(self.store._sql(
                        f"UPDATE article_stories SET story = ? WHERE story IN ({marks})"),
                        [decision.story, *decision.merged])
                    out = [decision.story if s in decision.merged else s for s in out]
                    rows = [(a, decision.story if s in decision.merged else s, d)
                            for a, s, d in rows]
                rows.append((article_id, decision.story, json.dumps(data, ensure_ascii=False)))
            if rows:
                cur.executemany(self.store._sql(
                    "INSERT INTO article_stories (article_id, story, features) VALUES (?, ?, ?)"),
                    rows)
        return out

    # -- reads ---------------------------------------------------------------------------
    def stories_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(article_ids))
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for a, s in self.store._query(
                    f"SELECT article_id, story FROM article_stories WHERE article_id IN ({marks})",
                    chunk):
                found[str(a)] = str(s)
        return found

    # -- rebuild --------------------------------------------------------------------------
    def rebuild(self, *, recompute: bool = False) -> RebuildReport:
        """Decide every stored article again, in the order they were first decided (then
        articles never decided, by first_seen). Features stored with the current version
        are reused unless ``recompute``."""
        import time

        started = time.perf_counter()
        old: dict[str, tuple[int, str, str]] = {}
        for seq, article_id, story, data in self.store._query(
                "SELECT seq, article_id, story, features FROM article_stories ORDER BY seq"):
            old[str(article_id)] = (int(seq), str(story), str(data))
        order: list[str] = list(old)
        rows = self.store._query("SELECT id, first_seen FROM articles ORDER BY first_seen, id")
        stored_ids = {str(r[0]) for r in rows}
        order = [a for a in order if a in stored_ids]
        gone = [a for a in old if a not in stored_ids]
        order += [str(r[0]) for r in rows if str(r[0]) not in old]
        feats: dict[str, Features] = {}
        need: list[str] = []
        for article_id in order:
            entry = old.get(article_id)
            data = json.loads(entry[2]) if entry and not recompute else None
            if data is not None and data.get("v") == FEATURES_VERSION:
                feats[article_id] = features_from_json(data)
            else:
                need.append(article_id)
        for start in range(0, len(need), 500):
            for article_id, item in self.store._articles_by_id(need[start:start + 500]).items():
                feats[article_id] = article_features(item)
        index = StoryIndex()
        for article_id in order:
            index.decide(article_id, feats[article_id])
        # Final stories (after any merge a later article made), in place: seq keeps the
        # order of first decision, so the next rebuild decides in the same order again.
        changed: list[tuple[str, str, str]] = []
        added: list[tuple[str, str, str]] = []
        moved = 0
        recomputed = set(need)
        for article_id in order:
            story = index.story_of(article_id) or article_id
            entry = old.get(article_id)
            if entry is None:
                added.append((article_id, story, _features_text(feats[article_id])))
            elif entry[1] != story or article_id in recomputed:
                moved += entry[1] != story
                changed.append((story, _features_text(feats[article_id]), article_id))
        with self.store.transaction() as cur:
            self._lock(cur)
            # Rows of articles no longer stored, found above: a NOT IN (SELECT id FROM
            # articles) made PostgreSQL compare every row with every article (4.3 minutes
            # of 100,000, once its hash of the ids outgrew work_mem).
            if gone:
                cur.executemany(self.store._sql(
                    "DELETE FROM article_stories WHERE article_id = ?"), [(a,) for a in gone])
            if changed:
                cur.executemany(self.store._sql(
                    "UPDATE article_stories SET story = ?, features = ? WHERE article_id = ?"),
                    changed)
            if added:
                cur.executemany(self.store._sql(
                    "INSERT INTO article_stories (article_id, story, features) VALUES (?, ?, ?)"),
                    added)
        self.index, self.last_seq = StoryIndex(), 0
        sizes = index.story_size
        if moved:
            logger.warning("stories rebuilt: %d articles changed story", moved)
        return RebuildReport(len(order), len(sizes), sum(1 for n in sizes.values() if n > 1),
                             moved, len(need), time.perf_counter() - started)


def story_members(store: Any, *, since: datetime | None = None, min_sources: int = 2,
                  limit: int | None = None) -> list[tuple[str, list[ArticleItem]]]:
    """Stories with articles from at least ``min_sources`` sources, newest first (by their
    newest member), each with its members oldest first."""
    sql = ("SELECT s.story, a.id, a.source, a.published_utc FROM article_stories s"
           " JOIN articles a ON a.id = s.article_id WHERE s.story IN (SELECT story FROM"
           " article_stories GROUP BY story HAVING COUNT(*) > 1)")
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for story, article_id, source, published in store._query(sql):
        groups.setdefault(str(story), []).append((str(article_id), str(source), str(published or "")))
    chosen = []
    for story, members in groups.items():
        if len({m[1] for m in members}) < min_sources:
            continue
        newest = max(m[2] for m in members)
        if since is not None and newest < since.isoformat():
            continue
        chosen.append((newest, story, members))
    chosen.sort(key=lambda c: (c[0], c[1]), reverse=True)
    if limit is not None:
        chosen = chosen[:limit]
    ids = [m[0] for _, _, members in chosen for m in members]
    articles = store._articles_by_id(ids)
    out = []
    for _, story, members in chosen:
        items = [articles[m[0]] for m in members if m[0] in articles]
        items.sort(key=lambda a: (a.published.isoformat() if a.published else "", a.id))
        out.append((story, items))
    return out


def story_siblings(store: Any, article_ids: Iterable[str]) -> dict[str, list[ArticleItem]]:
    """For each article id, the other articles of its story from other sources (oldest
    first); articles alone in their story are left out."""
    ids = sorted(set(article_ids))
    stories: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        for a, s in store._query(
                f"SELECT article_id, story FROM article_stories WHERE article_id IN ({marks})",
                chunk):
            stories[str(a)] = str(s)
    members: dict[str, list[str]] = {}
    names = sorted(set(stories.values()))
    for start in range(0, len(names), 500):
        chunk = names[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        for a, s in store._query(
                f"SELECT article_id, story FROM article_stories WHERE story IN ({marks})", chunk):
            members.setdefault(str(s), []).append(str(a))
    wanted = {m for story in members.values() if len(story) > 1 for m in story}
    found = store._articles_by_id(wanted)
    out: dict[str, list[ArticleItem]] = {}
    for article_id, story in stories.items():
        me = found.get(article_id)
        if me is None:
            continue
        others = [found[m] for m in members.get(story, []) if m != article_id and m in found
                  and found[m].source != me.source]
        if others:
            others.sort(key=lambda a: (a.published.isoformat() if a.published else "", a.id))
            out[article_id] = others
    return out
