"""Generated mirrors of the site for incremental-crawl tests and benchmarks (not a test module).

Built with ``scripts/build_demo_site.py`` from the demo data, plus synthetic articles: ``new``
articles newer than every other (numbers above the newest), or a whole synthetic site of
``size`` articles (the benchmark's 1,000-article mirror).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("mod", "others", "commentary")


def builder() -> Any:
    if "build_demo_site" in sys.modules:
        return sys.modules["build_demo_site"]
    spec = importlib.util.spec_from_file_location(
        "build_demo_site", ROOT / "scripts" / "build_demo_site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def synthetic(number: int, when: datetime, section: str) -> Any:
    b = builder()
    return b.Article(
        section=section, number=number, title=f"合成記事 第{number}号 防衛装備の調達について",
        categories=["防衛省関連"], date=f"{when.year}-{when.month}-{when.day} {when:%H:%M}",
        meta=["og"], lead=f"防衛省は記事{number}の内容を発表した。",
        body=f"記事{number}の本文。\n装備の調達計画が示された。",
    )


def new_paths(site: Any, new: int) -> list[str]:
    return [a.path for a in site.articles[-new:]] if new else []


def build_mirror(out: Path, *, new: int = 0, size: int | None = None) -> list[str]:
    """Write the mirror into ``out`` (replacing it); return the paths of the ``new`` articles.

    Unchanged files keep their bytes (ETags stay the same) between builds.
    """
    b = builder()
    site = b.load_site()
    start = datetime(2026, 1, 1, 9, 0)
    if size is not None:
        site.articles = [synthetic(10_000 + i, start + timedelta(hours=i), SECTIONS[i % 3])
                         for i in range(size)]
    if size is not None:
        # A fixed sidebar (the oldest ten): new articles change only their own section's pages.
        ranked = [(a.title, a.path) for a in site.articles[:10]]
        site.ranking = {"24h": ranked, "1w": ranked, "1m": ranked}
    top = max(a.number for a in site.articles)
    latest = max(datetime(*(int(x) for x in a.order_key[0])) for a in site.articles)
    for i in range(new):
        site.articles.append(synthetic(top + 1 + i, latest + timedelta(hours=1 + i), "mod"))
    files = b.render_site(site)
    if out.exists():
        shutil.rmtree(out)
    for rel, data in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return new_paths(site, new)
