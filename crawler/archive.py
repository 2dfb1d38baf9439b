"""Completeness is a property of the store: the walk down each section's archive.

An incremental crawl stops a section's pagination at the first index page holding only stored
articles, and asks unchanged indexes conditionally (a 304): what a first crawl did not reach
(Ctrl-C, a kill, ``--max-index-pages``) would never be looked for again. So each source keeps,
per section, how far its **archive walk** has come (``archive_walks`` in the store): the first
index page not yet walked whole and its position. Until the walk has reached the last index
page, every run resumes it there, before any incremental shortcut applies: the resumed pages
are asked unconditionally, and followed for up to ``DEFNEWS_JDEFENSE_MAX_INDEX_PAGES`` pages
whether or not their articles are stored.

An index page counts as walked once every article it links is in the store, or was answered
for good this crawl (read, dropped, 404, refused by robots.txt...). A page whose article
failed to download (a timeout, a 5xx after the retries) is not: the walk resumes there. The
state is written when the crawl closes, from what the store then holds, so a crawl killed
with SIGKILL loses at most that crawl's progress, never an article.

An article reached only through another article's links (the prev/next pager, a sidebar) is
on no index page: once the linking article is stored, nothing would ask for it again. So the
links a page asks for are written to the store (``archive_links``) *before* the page's own
article is stored, and forgotten once their articles are stored or answered for good; every
run asks again for those left (:meth:`Walker.ahead`, :meth:`Walker.pending`). The spider
hands them to the store with the linking page's article (:meth:`Walker.linked`): one write per
batch of articles, not one per page.

The spider calls this module at four points (:meth:`ArchiveWalk.load`, :meth:`resume`,
:meth:`listed`, :meth:`answered` / :meth:`failed`, :meth:`save`); nothing in it knows the
site's markup except :func:`total_pages`, which reads the numbered pagination links.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from crawler.store import ArchiveWalk, SQLStore

logger = logging.getLogger(__name__)

# Request meta keys: the section an index page belongs to, and (archive walk) how many index
# pages the walk may still follow this run.
SECTION = "defnews_section"
BUDGET = "defnews_archive_budget"

# Numbered index pages as CMSs name them: index_3.html (the site's own), page/3/ (WordPress),
# ?page=3. Read from every link of an index page: the highest is the section's page count.
_HREF = re.compile(r"""href\s*=\s*["']([^"'#]+)""", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"(?:/index_(\d+)\.html?|/page/(\d+)/?|[?&]page=(\d+))$")
_ON_ITS_OWN = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://|/(?!/)")  # scheme://..., /path


def total_pages(html: str, url: str) -> int | None:
    """The number of index pages the pagination of this index page names, or None."""
    folder = urlsplit(url).path.rsplit("/", 1)[0]
    top = 0
    for href in _HREF.findall(html):
        href = href.strip()
        if _ON_ITS_OWN.match(href) and "index_" not in href and "page" not in href:
            # An absolute or root-relative link names its whole path and query itself: with
            # neither word in it, the joined address cannot match (most links of a page).
            continue
        absolute = urljoin(url, href)
        parts = urlsplit(absolute)
        if not parts.path.startswith(folder):
            continue
        m = _PAGE_NUMBER.search(parts.path + (f"?{parts.query}" if parts.query else ""))
        if m:
            top = max(top, int(next(g for g in m.groups() if g)))
    return top or None


@dataclass
class _Page:
    url: str
    numbers: frozenset[int]
    next_url: str | None


@dataclass
class Walker:
    """One crawl's view of a source's archive walks."""

    source: str
    walks: dict[str, ArchiveWalk] = field(default_factory=dict)
    pages: dict[str, dict[int, _Page]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    answered_numbers: set[int] = field(default_factory=set)
    failed_numbers: set[int] = field(default_factory=set)
    sections: set[str] = field(default_factory=set)  # those whose walk this crawl asked for
    links: set[str] = field(default_factory=set)  # linked articles asked for, not yet settled
    _noted: set[str] = field(default_factory=set)  # links noted by linked(), this crawl

    def load(self, store: SQLStore) -> None:
        self.walks = store.archive_walks(self.source)
        self.links = store.archive_links(self.source)
        if self.links:
            logger.info("%s: %d linked articles asked for before and not stored yet",
                        self.source, len(self.links))
        for section, walk in sorted(self.walks.items()):
            if not walk.complete:
                logger.info("%s: archive walk of %s resumes at index page %d (%s)",
                            self.source, section, walk.next_page, walk.next_url)

    def resume(self, section: str, first_url: str) -> tuple[str, int] | None:
        """Where this section's archive walk goes on (a site address and its position), or
        None once the walk has reached the end."""
        self.sections.add(section)
        walk = self.walks.get(section)
        if walk is None:
            return first_url, 1
        if walk.complete:
            return None
        return walk.next_url or first_url, walk.next_page if walk.next_url else 1

    def listed(self, section: str, page: int, url: str, numbers: set[int],
               next_url: str | None, total: int | None) -> None:
        """An index page was read: its position, the article numbers it links, the next."""
        self.pages.setdefault(section, {})[page] = _Page(url, frozenset(numbers), next_url)
        if total:
            self.totals[section] = max(total, self.totals.get(section, 0))

    def answered(self, number: int | None) -> None:
        """The article page got its final answer (read, dropped, gone, refused)."""
        if number is not None:
            self.answered_numbers.add(number)

    def failed(self, number: int | None) -> None:
        """The article page could not be downloaded (to be fetched again next run)."""
        if number is not None:
            self.failed_numbers.add(number)

    def pending(self) -> list[str]:
        """The linked articles an earlier crawl asked for and did not store (to ask again)."""
        return sorted(self.links)

    def ahead(self, store: SQLStore | None, urls: Iterable[str]) -> None:
        """Links about to be asked for: written to the store before the page that links them
        is stored (a stop, even SIGKILL, between the two loses no link)."""
        new = set(urls) - self.links
        if new and store is not None:
            store.record_archive_links(self.source, sorted(new), at=datetime.now(UTC))
        self.links |= new

    def linked(self, urls: Iterable[str]) -> list[str]:
        """Links about to be asked for, as :meth:`ahead`, but not written here: those no page
        of this crawl (nor an earlier run) asked for are returned, to be written with the
        linking page's article (``ArticleItem.linked``: the store pipeline writes them in its
        batch, before the articles). :meth:`write_linked` writes them all when the crawl
        closes (a linking page that no pipeline stored, a dropped one, is recorded as fetched
        only then)."""
        new = sorted(set(urls) - self.links)
        self.links.update(new)
        self._noted.update(new)
        return new

    def write_linked(self, store: SQLStore, *, at: datetime) -> None:
        """Every link :meth:`linked` noted this crawl, in the store (those written with their
        article already are left as they are)."""
        if self._noted:
            store.record_archive_links(self.source, sorted(self._noted), at=at)

    def settle(self, store: SQLStore, stored: set[int],
               number_of: Callable[[str], int | None]) -> int:
        """Forget the links whose articles are stored or answered for good; return how many
        are left for the next run."""
        done = (stored | self.answered_numbers) - self.failed_numbers
        settled = {u for u in self.links if (n := number_of(u)) is not None and n in done}
        if settled:
            store.forget_archive_links(self.source, sorted(settled))
        self.links -= settled
        return len(self.links)

    def progress(self, stored: set[int]) -> dict[str, ArchiveWalk]:
        """Each section's walk after this crawl, given the article numbers now stored."""
        done = (stored | self.answered_numbers) - self.failed_numbers
        now = datetime.now(UTC)
        out: dict[str, ArchiveWalk] = {}
        for section in sorted(set(self.pages) | set(self.walks) | self.sections):
            before = self.walks.get(section)
            if before is not None and before.complete:
                continue
            pages = self.pages.get(section, {})
            page = before.next_page if before is not None and before.next_url else 1
            next_url = before.next_url if before is not None else None
            complete = False
            while page in pages and pages[page].numbers <= done:
                if pages[page].next_url is None:
                    complete = True
                    page += 1
                    next_url = None
                    break
                next_url = pages[page].next_url
                page += 1
            if next_url is None and not complete:
                first = pages.get(1)
                next_url = first.url if first is not None else None
            total = self.totals.get(section) or (before.total_pages if before else None)
            if complete:
                total = max(total or 0, page - 1)
            out[section] = ArchiveWalk(section, next_url, page, total, complete, now)
        return out

    def save(self, store: SQLStore, stored: set[int]) -> dict[str, ArchiveWalk]:
        """Write each section's progress, given the article numbers the store now holds."""
        walks = self.progress(stored)
        for walk in walks.values():
            before = self.walks.get(walk.section)
            if before is None or (before.next_page, before.next_url, before.complete,
                                  before.total_pages) != (walk.next_page, walk.next_url,
                                                          walk.complete, walk.total_pages):
                store.record_archive_walk(self.source, walk)
        return walks


def summary(walks: dict[str, ArchiveWalk], links: int = 0) -> str | None:
    """One line on a source's archive walk: None when every section was walked to the end and
    no linked article is left to fetch."""
    linked = f"{links} linked articles not fetched yet" if links else ""
    if not walks or all(w.complete for w in walks.values()):
        if not links:
            return None
        return f"incomplete: archive walk: {linked}; resumes next run"
    walked = sum(w.walked for w in walks.values())
    known = all(w.total_pages for w in walks.values())
    total = sum(w.total_pages or 0 for w in walks.values())
    sections = ", ".join(
        f"{w.section} {w.walked}" + (f"/{w.total_pages}" if w.total_pages else "")
        for w in sorted(walks.values(), key=lambda w: w.section) if not w.complete)
    of = f" of {total}" if known else ""
    return (f"incomplete: archive walk {walked}{of} index pages; resumes next run "
            f"(not walked to the end: {sections}{'; ' + linked if linked else ''})")
