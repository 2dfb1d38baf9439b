"""What the feed builder needs to know that the store does not: where the files are served,
titles, and the file names (slugs) of categories and sources.

File names are part of the public URL of a feed, so they are chosen once and kept:

- a category uses the slug configured for its label (``category_slugs``), else a fallback
  computed from the label alone (:func:`category_slug`): ASCII labels are slugified
  (``"Naval News"`` -> ``"naval-news"``), Japanese labels are romanised (Hepburn, pykakasi)
  and slugified (``"解説"`` -> ``"kaisetsu"``, ``"日本の防衛"`` -> ``"nippon-no-bouei"``), other
  scripts transliterated (anyascii: ``"Флот"`` -> ``"flot"``, ``"국방"`` -> ``"gugbang"``); only
  a label with nothing to romanise (emoji, symbols) becomes ``"c-"`` + the first 10 hex digits
  of the SHA-1 of its UTF-8 bytes;
- a source key is used as it is when it is already a safe file name, else ``"s-"`` + hash;
- no slug is ever one of :data:`RESERVED_SLUGS` nor starts with ``"ranking-"``, so a slug can
  never be mistaken for a file or folder the builder writes itself; and no label but the
  hashed one ever gets a slug shaped like a hash (``c-`` / ``s-`` + 10 hex digits);
- when two labels of one build fall on the same slug (``"Naval News"`` and ``"naval news"``),
  :func:`assign_category_slugs` keeps the plain slug for the label that sorts first and gives
  the others ``<slug>-<8 hex digits of their own hash>``. Configured slugs always win. Configure
  a slug for any label whose URL must never move.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from urllib.parse import urlsplit

RESERVED_SLUGS = frozenset(
    {"all", "index", "sources", "opml", "category", "source", "ranking", "feeds"}
)
RESERVED_PREFIX = "ranking-"
SLUG_MAX = 60

# A slug is a lower-case file-name-safe token: the same on case-insensitive file systems,
# never hidden (no leading dot), no path separators.
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# The shape of hashed fallbacks: no label or key other than the hashed one may land there.
_HASHED = re.compile(r"^[cs]-[0-9a-f]{10}$")


def is_reserved(slug: str) -> bool:
    return slug in RESERVED_SLUGS or slug.startswith(RESERVED_PREFIX)


def check_slug(slug: str, what: str) -> str:
    """``slug`` if it is a usable feed-file slug, else ValueError naming ``what``."""
    if len(slug) > SLUG_MAX or not _SLUG_RE.match(slug):
        raise ValueError(
            f"{what}: slug {slug!r} must be a-z, 0-9, '-' and '_', starting and ending with a"
            f" letter or digit, at most {SLUG_MAX} characters"
        )
    if is_reserved(slug):
        raise ValueError(f"{what}: slug {slug!r} is reserved for the builder's own files")
    return slug


def _hex(text: str, n: int) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def slugify_ascii(text: str) -> str:
    """``"Naval News"`` -> ``"naval-news"``; ``""`` when nothing alphanumeric is left."""
    return _NON_ALNUM.sub("-", text.lower()).strip("-")


_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")


@cache
def _kakasi():  # type: ignore[no-untyped-def]
    import pykakasi  # type: ignore[import-untyped]  # loaded only for non-ASCII labels

    return pykakasi.kakasi()


@cache
def romanize(label: str) -> str:
    """``"解説"`` -> ``"kaisetsu"``: Hepburn romanisation of Japanese (pykakasi), other scripts
    folded to ASCII where Unicode decomposes them (``"Défense"`` -> ``"defense"``); the
    slugified result, ``""`` when nothing is left."""
    text = unicodedata.normalize("NFKC", label)
    if _JAPANESE.search(text):
        # Japanese words apart (pykakasi cuts at word boundaries), other runs kept whole.
        text = "".join(
            f" {part['hepburn']} " if _JAPANESE.search(part["orig"]) else part["orig"]
            for part in _kakasi().convert(text)
        )
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = slugify_ascii(ascii_text)
    if not slug and any(unicodedata.category(c).startswith("L") for c in text):
        # Letters of other scripts: transliterated (anyascii: "Флот" -> "flot", "국방" ->
        # "gugbang"). Only where the folding above leaves nothing, so that no slug chosen
        # before changes; emoji and symbols (no letter) keep their hash.
        from anyascii import anyascii

        slug = slugify_ascii(anyascii(text))
    return slug


def category_slug(label: str, slugs: Mapping[str, str]) -> str:
    """The file name (without extension) of the feed of ``label``.

    The configured slug when there is one (validated: a bad or reserved configured slug raises
    ``ValueError``), else a fallback that depends on ``label`` alone.
    """
    if label in slugs:
        return check_slug(slugs[label], f"category {label!r}")
    slug = slugify_ascii(label) if label.isascii() else romanize(label)
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rstrip("-_")
    if slug and not is_reserved(slug) and not _HASHED.match(slug):
        return slug
    return "c-" + _hex(label, 10)


def source_slug(source: str) -> str:
    """The file-name part of a source key: the key itself when it is already a safe slug."""
    if (
        len(source) <= SLUG_MAX
        and _SLUG_RE.match(source)
        and not is_reserved(source)
        and not _HASHED.match(source)
    ):
        return source
    return "s-" + _hex(source, 10)


def _unique(
    names: Iterable[str],
    slug_of: Mapping[str, str],
    taken: set[str],
) -> dict[str, str]:
    """Give every name its slug, suffixing the later ones (in sorted order) on a collision."""
    result: dict[str, str] = {}
    for name in sorted(set(names)):
        slug = slug_of[name]
        if slug in taken:
            base = f"{slug}-{_hex(name, 8)}"
            slug, n = base, 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        result[name] = slug
    return result


def assign_category_slugs(
    labels: Iterable[str], slugs: Mapping[str, str], known: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Slugs of every label of one build, without collisions (see the module docstring).

    ``known``: the slugs earlier builds gave (kept in the output folder), so that a label keeps
    its URL whatever later labels or a newer romaniser would do, and the romaniser's
    dictionaries load only when a new label shows up."""
    labels = sorted(set(labels))
    configured = {label: category_slug(label, slugs) for label in labels if label in slugs}
    # Every configured slug is taken, even for labels absent from this build: a fallback slug
    # must not occupy the URL a configured label will claim when it shows up.
    taken = set(slugs.values())
    kept: dict[str, str] = {}
    for label in labels:
        prior = (known or {}).get(label)
        if label in slugs or not isinstance(prior, str) or prior in taken:
            continue
        if len(prior) <= SLUG_MAX and _SLUG_RE.match(prior) and not is_reserved(prior):
            kept[label] = prior
            taken.add(prior)
    fallback = {
        label: category_slug(label, slugs)
        for label in labels
        if label not in slugs and label not in kept
    }
    return {**configured, **kept, **_unique(fallback, fallback, taken)}


def assign_source_slugs(sources: Iterable[str]) -> dict[str, str]:
    sources = sorted(set(sources))
    return _unique(sources, {s: source_slug(s) for s in sources}, set())


@dataclass(frozen=True)
class FeedConfig:
    """Options of one build. ``base_url`` is where the output folder will be served."""

    base_url: str
    title: str = "defnews"
    limit: int = 50
    category_slugs: Mapping[str, str] = field(default_factory=dict)
    source_names: Mapping[str, str] = field(default_factory=dict)
    author: str = "defnews"
    language: str = "ja"
    hub_url: str | None = None  # a WebSub hub: feeds link to it, builds ping it
    # Remove the feeds this build no longer makes (else they are kept and listed as stale);
    # never those of a source or category the sources file still names.
    prune: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL: {self.base_url!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"base_url must not have a query or fragment: {self.base_url!r}")
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")
        if self.hub_url is not None:
            hub = urlsplit(self.hub_url)
            if hub.scheme not in ("http", "https") or not hub.netloc:
                raise ValueError(f"hub_url must be an absolute http(s) URL: {self.hub_url!r}")
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, not {self.limit}")
        if not self.title.strip():
            raise ValueError("title must not be empty")
        if not self.author.strip():
            raise ValueError("author must not be empty")
        seen: dict[str, str] = {}
        for label, slug in self.category_slugs.items():
            check_slug(slug, f"category {label!r}")
            if slug in seen:
                raise ValueError(
                    f"categories {seen[slug]!r} and {label!r} are both configured as {slug!r}"
                )
            seen[slug] = label
        # Read-only copies: the config is shared by a whole build.
        object.__setattr__(self, "category_slugs", MappingProxyType(dict(self.category_slugs)))
        object.__setattr__(self, "source_names", MappingProxyType(dict(self.source_names)))

    def source_name(self, source: str) -> str:
        return self.source_names.get(source) or source

    def url(self, path: str) -> str:
        """The public URL of ``path`` (relative to the output folder)."""
        return self.base_url + path
