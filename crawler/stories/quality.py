"""Pairwise quality of a clustering against labels (the tests and bench/bench_stories.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from crawler.stories.features import features
from crawler.stories.index import StoryIndex


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    published: datetime
    language: str = ""
    source: str = ""


def cluster(articles: Iterable[Article]) -> dict[str, str]:
    """article id -> story, deciding in order of publication (as a crawl would)."""
    index = StoryIndex()
    for a in sorted(articles, key=lambda a: (a.published, a.id)):
        index.decide(a.id, features(a.title, a.text, a.published))
    return {m.article_id: m.story for m in index.members}


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    pairs_true: int
    pairs_found: int
    cross_recall: float  # recall over same-event pairs in two languages
    cross_pairs: int


def pairwise(predicted: Mapping[str, str], gold: Mapping[str, str],
             language: Mapping[str, str]) -> Scores:
    ids = sorted(gold)
    tp = fp = fn = cross_tp = cross = 0
    for a, b in combinations(ids, 2):
        same_gold = gold[a] == gold[b]
        same_pred = predicted[a] == predicted[b]
        tp += same_gold and same_pred
        fp += same_pred and not same_gold
        fn += same_gold and not same_pred
        if same_gold and language[a] != language[b]:
            cross += 1
            cross_tp += same_pred
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp + fn, tp + fp, cross_tp / cross if cross else 1.0,
                  cross)
