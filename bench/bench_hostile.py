"""Trust nothing from outside: what the guards cost and what they save.

- a gzip bomb through the compression middleware: peak memory and time to refuse it, with
  defnews' DOWNLOAD_MAXSIZE and with Scrapy's default (1 GiB: the bomb is inflated whole);
- the normalize pipeline's text and link gate: ``plain_text`` on clean and hostile titles
  (against the whitespace-only ``clean_text`` it replaced), and whole items per second.

    .venv/bin/python bench/bench_hostile.py
"""

from __future__ import annotations

import logging
import tracemalloc
import zlib

from _common import Table, fmt_rate, fmt_s, median, print_tables, repeat, timed

MiB = 1024 * 1024
BOMB = 256 * MiB


def _bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join([*(compressor.compress(bytes(MiB)) for _ in range(size // MiB)),
                     compressor.flush()])


def bomb_table() -> Table:
    from scrapy import Request, Spider
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import HtmlResponse
    from scrapy.settings import Settings
    from scrapy.utils.misc import build_from_crawler
    from scrapy.utils.test import get_crawler

    from crawler.middlewares import HttpCompressionMiddleware

    defaults = Settings()
    defaults.setmodule("crawler.settings")
    body = _bomb(BOMB)
    table = Table(
        f"Gzip bomb: {len(body) / MiB:.2f} MiB inflating to {BOMB // MiB} MiB",
        ["DOWNLOAD_MAXSIZE", "outcome", "time", "peak memory (tracemalloc)"],
        notes=["One call of the compression middleware's process_response, as Scrapy makes it."],
    )
    logging.getLogger("scrapy").setLevel(logging.CRITICAL)
    logging.getLogger("defnews").setLevel(logging.CRITICAL)
    for label, maxsize in (("defnews default", defaults.getint("DOWNLOAD_MAXSIZE")),
                           ("Scrapy default", 1024 * MiB)):
        crawler = get_crawler(Spider, {"DOWNLOAD_MAXSIZE": maxsize})
        crawler.stats.open_spider()
        mw = build_from_crawler(HttpCompressionMiddleware, crawler)
        response = HtmlResponse("http://127.0.0.1/bomb.html", body=body,
                                headers={"Content-Encoding": "gzip"})

        def call(mw: HttpCompressionMiddleware = mw, response: HtmlResponse = response) -> str:
            try:
                out = mw.process_response(Request(response.url), response)
            except IgnoreRequest:
                return "refused"
            return f"read {len(out.body) // MiB} MiB"

        tracemalloc.start()
        seconds, outcome = timed(call)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        table.add(f"{label} ({maxsize // MiB} MiB)", outcome, fmt_s(seconds), f"{peak / MiB:.1f} MiB")
    return table


TITLES = {
    "clean Japanese title": "中谷防衛大臣、NATO国防相会合及び各国国防大臣との会談等に出席(10月17日)",
    "clean title with &": "AT&T and R&D: JMSDF launches sixth upgraded Mogami-class frigate",
    "hostile title": "<script>alert(1)</script>Frigate &lt;img src=x onerror=alert(2)&gt;launched",
}
ROUNDS = 2000
REPEATS = 5


def text_table() -> Table:
    from crawler.pipelines.normalize import clean_text, plain_text

    table = Table("Plain-text fields", ["input", "clean_text (whitespace only)", "plain_text",
                                        "ratio"],
                  notes=[f"Median of {REPEATS} runs of {ROUNDS} calls; per call."])
    for label, title in TITLES.items():
        old = median(repeat(lambda t=title: [clean_text(t) for _ in range(ROUNDS)], REPEATS))
        new = median(repeat(lambda t=title: [plain_text(t) for _ in range(ROUNDS)], REPEATS))
        table.add(label, fmt_s(old / ROUNDS), fmt_s(new / ROUNDS), f"{new / old:.1f}x")
    return table


def items_table() -> Table:
    from scrapy import Spider
    from scrapy.utils.misc import build_from_crawler
    from scrapy.utils.test import get_crawler

    from crawler.items import ArticleItem, Image
    from crawler.pipelines.normalize import NormalizePipeline

    crawler = get_crawler(Spider, {"DEFNEWS_STORE": ""})
    crawler.stats.open_spider()
    pipe = build_from_crawler(NormalizePipeline, crawler)
    pipe.open_spider()
    logging.getLogger("defnews").setLevel(logging.CRITICAL)

    def items(hostile: bool) -> list[ArticleItem]:
        title = TITLES["hostile title" if hostile else "clean Japanese title"]
        return [
            ArticleItem(
                url=f"https://j-defense.ikaros.jp/docs/mod/{n:06d}.html", title=title,
                source="jdefense", categories=["日本の防衛", "<b>陸上</b>" if hostile else "陸上"],
                published_raw="2024-10-22 18:15", published_source="dateline",
                summary="防衛省は令和6(2024)年10月18日、" * 5, author="編集部",
                content_html="<p>本文</p>" * 20,
                images=[Image("javascript:x" if hostile else f"https://j-defense.ikaros.jp/{n}.jpg")],
            )
            for n in range(300)
        ]

    table = Table("Normalize pipeline, whole article items",
                  ["items", "per item", "items/s"],
                  notes=["300 items per run, median of 5 runs; dates, canonical URL, HTML "
                         "sanitizer, link and markup gate, plausibility check."])
    for label, hostile in (("clean", False), ("hostile (markup, javascript: image)", True)):
        runs = []
        for _ in range(REPEATS):
            batch = items(hostile)
            runs.append(timed(lambda b=batch: [pipe.process_item(i) for i in b])[0])
        seconds = median(runs)
        table.add(label, fmt_s(seconds / 300), fmt_rate(300, seconds, "items"))
    return table


def run() -> list[Table]:
    return [bomb_table(), text_table(), items_table()]


if __name__ == "__main__":
    print_tables(run())
