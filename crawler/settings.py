"""Scrapy settings for defnews: polite by default.

Operators override any of these with ``-s NAME=VALUE`` (scrapy) or the ``defnews`` options.
"""

from crawler import __version__

BOT_NAME = "defnews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- Politeness -------------------------------------------------------------------------
USER_AGENT = f"defnews/{__version__} (+https://github.com/defnews/defnews; feed generator)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 30

# -- Conditional requests: feeds and pages unchanged since the last run cost a 304 ------
HTTPCACHE_ENABLED = False
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_DIR = "httpcache"

# -- Items ------------------------------------------------------------------------------
ITEM_PIPELINES = {
    "crawler.pipelines.normalize.NormalizePipeline": 100,
    "crawler.pipelines.validate.ValidatePipeline": 200,
    "crawler.pipelines.dedupe.DedupePipeline": 300,
    "crawler.pipelines.ranking.RankingPipeline": 400,
    "crawler.pipelines.store.StorePipeline": 500,
}
# JSON Lines with aware datetimes (ISO 8601 with offset), whatever the file extension.
FEED_EXPORTERS = {
    "jsonlines": "crawler.exporters.JsonLinesExporter",
    "jsonl": "crawler.exporters.JsonLinesExporter",
    "json": "crawler.exporters.JsonExporter",
}
FEED_EXPORT_ENCODING = "utf-8"

# -- defnews ----------------------------------------------------------------------------
DEFNEWS_STORE = "defnews.sqlite3"
# The sources file (empty: the packaged crawler/sources.toml); its order ranks sources that
# carry the same story.
DEFNEWS_SOURCES = ""
# Section index pages followed per section (pagination), and how far below the highest
# article number seen the shared 6-digit counter is walked (0: off). The walk is the fallback
# that finds articles no page links to; 30 numbers is about four days of the site's output,
# at most three requests (one per section) for each number no page linked.
DEFNEWS_JDEFENSE_MAX_INDEX_PAGES = 5
DEFNEWS_JDEFENSE_COUNTER_WALK = 30
DEFNEWS_PROGRESS_INTERVAL = 10.0

# A shared frontier: with a redis:// URL, several crawl processes share one request queue
# and one seen-set (crawler/frontier.py; `defnews crawl --redis URL`).
DEFNEWS_REDIS_URL = ""
ADDONS = {"crawler.frontier.RedisFrontier": 0}

EXTENSIONS = {
    "crawler.extensions.Progress": 500,
}

LOG_FORMATTER = "crawler.logformatter.DefnewsLogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
