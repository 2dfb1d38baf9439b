"""Stories: the articles of every source about one event, across languages.

- :mod:`crawler.stories.features`: what an article says about its event (date, facts).
- :mod:`crawler.stories.index`: the candidate index and the decision per new article.
- :mod:`crawler.stories.store`: the stories in the store (``article_stories``), the decision
  taken under the store's lock so that concurrent crawlers agree, and ``rebuild``.

No Scrapy import here: the feed builder and the CLI use it too.
"""

from __future__ import annotations

from crawler.stories.features import Features, features
from crawler.stories.index import Decision, StoryIndex

__all__ = ["Decision", "Features", "StoryIndex", "features"]
