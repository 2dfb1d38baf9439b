"""Page readers: :func:`read_article` reads an article page of any site (crawler/pages/reader.py)."""

from crawler.pages.html import PageParseError
from crawler.pages.reader import read_article

__all__ = ["PageParseError", "read_article"]
