"""The story index's bookkeeping (crawler.stories.index) and the matching of the lexicon
(crawler.stories.features)."""

from __future__ import annotations

import re

from crawler.stories.features import trie_pattern


def test_trie_pattern_matches_as_the_alternation_longest_first():
    words = ["air", "air force", "air force base", "army", "ar", "sea", "seal", "marzo",
             "mar", "march", "março", "a.b", "x+y"]
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    old = re.compile(rf"(?<![\w.])({alternation})(?!\w)", re.IGNORECASE)
    new = re.compile(rf"(?<![\w.])({trie_pattern(words)})(?!\w)", re.IGNORECASE)
    texts = ["the Air Force Base and the air forces", "ARMY ar arm sea seals seal",
             "marzo, March, MARÇO, mar.", "a.b x+y xa.b", "air force basement air force"]
    for text in texts:
        assert [m.span() for m in new.finditer(text)] == [m.span() for m in old.finditer(text)]
    assert re.fullmatch(trie_pattern(["a", "ab"]), "ab") and trie_pattern([]) == ""
