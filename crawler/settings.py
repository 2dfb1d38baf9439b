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
# Retries wait: Retry-After on 429/503 (up to DEFNEWS_RETRY_AFTER_MAX seconds), else
# DEFNEWS_RETRY_BACKOFF x 2^n seconds (up to DEFNEWS_RETRY_BACKOFF_MAX). See crawler/retry.py.
# Retries honour Retry-After (429/503) and back off on timeouts and 5xx (crawler/retry.py);
# the other replaced middlewares are below, under "Trust nothing from outside".
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retry.BackoffRetryMiddleware": 550,
}
DEFNEWS_RETRY_BACKOFF = 2.0
DEFNEWS_RETRY_BACKOFF_MAX = 60.0
DEFNEWS_RETRY_AFTER_MAX = 600.0
DOWNLOAD_TIMEOUT = 30
# No telnet console: it listens on a port and prints its password in the log.
TELNETCONSOLE_ENABLED = False

# -- Conditional requests: feeds and pages unchanged since the last run cost a 304 ------
HTTPCACHE_ENABLED = False
# Every cached page is asked again, conditionally (crawler/cachepolicy.py).
HTTPCACHE_POLICY = "crawler.cachepolicy.RevalidatePolicy"
HTTPCACHE_DIR = "httpcache"
# Only whole responses are cached, and an entry whose body is not whole (a write cut short by
# a full disk) is discarded, not served (crawler/transfers.py).
HTTPCACHE_STORAGE = "crawler.transfers.WholeFilesystemCacheStorage"

# -- Trust nothing from outside (crawler/middlewares.py) ------------------------------------
# Scrapy's own middlewares, replaced by subclasses that log and count what they drop: off-site
# requests and redirects, robots.txt (obeyed by every request, start pages included), redirect
# loops, bodies over DOWNLOAD_MAXSIZE.
DOWNLOADER_MIDDLEWARES |= {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.SiteOffsiteMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    "crawler.middlewares.DownloadSizeMiddleware": 560,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.HttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.RedirectMiddleware": 600,
    # A body cut short (data loss) counted as failed once the retries are spent.
    "crawler.transfers.TruncatedTransferMiddleware": 45,
    # Script-rendered pages (crawler/render.py): which requests a browser renders.
    "crawler.render.RenderMiddleware": 540,
}
# Response size, counted after decompression too (Scrapy's HttpCompressionMiddleware stops
# inflating at DOWNLOAD_MAXSIZE, 64 KiB at a time): a 2 MB gzip bomb costs 16 MiB, not 1 GiB.
# No news page or feed comes near it (the largest real feeds are a few MiB).
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 10

# -- Items ------------------------------------------------------------------------------
# Under every callback (order 10: after HttpErrorMiddleware has taken its own exceptions): an
# exception costs the page it was reading, logged with its URL and counted as failed.
SPIDER_MIDDLEWARES = {"crawler.failures.ContainErrorsMiddleware": 10}
ITEM_PIPELINES = {
    "crawler.pipelines.normalize.NormalizePipeline": 100,
    "crawler.pipelines.limits.CategoryLimitPipeline": 150,
    "crawler.pipelines.validate.ValidatePipeline": 200,
    "crawler.pipelines.dedupe.DedupePipeline": 300,
    "crawler.pipelines.ranking.RankingPipeline": 400,
    "crawler.pipelines.store.StorePipeline": 500,
    "crawler.pipelines.stories.StoriesPipeline": 550,
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
# Crawl summary warns when a field (title, published, labels, body, summary) is found on fewer
# articles than this share (crawler/coverage.py).
DEFNEWS_COVERAGE_MIN = 0.9
DEFNEWS_PROGRESS_INTERVAL = 10.0
# Entries read per feed document (the first ones, in document order); entries past it are
# dropped, logged and counted in the crawl summary (0: no limit).
DEFNEWS_FEED_MAX_ENTRIES = 10_000
# Incremental crawls: an article already stored is fetched again only with --refresh
# (DEFNEWS_REFRESH) or once its last fetch is older than DEFNEWS_REVISIT_AGE seconds (0: never).
# A counter-walk number found in no section is probed again after
# DEFNEWS_JDEFENSE_PROBE_RETRY_AGE seconds.
DEFNEWS_REFRESH = False
DEFNEWS_REVISIT_AGE = 0.0  # a float: -s DEFNEWS_REVISIT_AGE=0.5 is refused otherwise
DEFNEWS_JDEFENSE_PROBE_RETRY_AGE = 7 * 24 * 3600.0
# Plausible dates: a date before DEFNEWS_DATES_EARLIEST or more than
# DEFNEWS_DATES_MAX_FUTURE_HOURS after the crawl is flagged (a published date falls back to
# the time the article was first seen); the crawl summary counts them.
DEFNEWS_DATES_EARLIEST = "1990-01-01"
DEFNEWS_DATES_MAX_FUTURE_HOURS = 24.0
# Category labels per source and crawl beyond those the sources file names (0: no limit).
DEFNEWS_MAX_CATEGORIES_PER_SOURCE = 100

# A shared frontier: with a redis:// URL, several crawl processes share one request queue
# and one seen-set (crawler/frontier.py; `defnews crawl --redis URL`).
DEFNEWS_REDIS_URL = ""
ADDONS = {"crawler.frontier.RedisFrontier": 0, "crawler.render.RenderAddon": 0}

# -- Script-rendered pages (crawler/render.py; the `render` extra and Debian's chromium) ----
# auto: a page is rendered in the browser only when its served HTML lacks what it should hold
# and it has scripts (a site that needed it once has its listing pages rendered directly for
# DEFNEWS_RENDER_REMEMBER seconds); never; always (every site page: for comparisons).
DEFNEWS_RENDER = "auto"
# The browser: empty, /usr/bin/chromium-headless-shell where installed (Debian's
# chromium-headless-shell: about a quarter less CPU per page), else /usr/bin/chromium.
DEFNEWS_RENDER_BROWSER = ""
# A rendered page is read once what it should hold is there and the DOM has been still for
# DEFNEWS_RENDER_SETTLE s, or after DEFNEWS_RENDER_WAIT s; its navigation may take
# DEFNEWS_RENDER_PAGE_TIMEOUT s, and so may the wait (a page whose scripts never yield fails). At most DEFNEWS_RENDER_MAX_PAGES pages open at
# once. The browser fetches nothing from other hosts than the pages' own, except these.
DEFNEWS_RENDER_WAIT = 10.0
DEFNEWS_RENDER_SETTLE = 0.2
DEFNEWS_RENDER_PAGE_TIMEOUT = 30.0
# Pages at once: 6 (bench/bench_render.py's auto crawl, 103 listings rendered: 4 pages 20-22 s
# at 740 MiB peak with the browser's processes, 6 pages 15.5 s at 810 MiB, 8 about as fast
# again, within the noise of the runs, at 870 MiB).
DEFNEWS_RENDER_MAX_PAGES = 6
# A browser page is reused for this many rendered pages, then closed and a new one opened
# (crawler/render_handler.py: a new page per request costs CPU, one reused without end memory).
DEFNEWS_RENDER_PAGE_USES = 5
DEFNEWS_RENDER_ALLOW_HOSTS: list[str] = []
# The page's own requests never made, by Playwright resource type (a page is rendered for its
# DOM: no pixels, so no images, media, fonts or style sheets; no beacons), and more Chromium
# flags.
DEFNEWS_RENDER_BLOCK = ["image", "media", "font", "stylesheet", "texttrack", "manifest", "ping",
                        "cspreport"]
DEFNEWS_RENDER_BROWSER_ARGS: list[str] = []
DEFNEWS_RENDER_REMEMBER = 30 * 24 * 3600

EXTENSIONS = {
    "crawler.extensions.Progress": 500,
    "crawler.health.HealthStats": 510,
    "crawler.failures.FailureStats": 520,
    # Each source's health record, written when the crawl ends (scrapy crawl, Scrapyd too).
    "crawler.health.HealthRecorder": 525,
}
DEFNEWS_HEALTH_RECORD = True
# Health: a source whose share of articles read, or of articles with a field, falls under
# its threshold this crawl is unhealthy (judged from DEFNEWS_HEALTH_MIN_ARTICLES articles on).
DEFNEWS_HEALTH_MIN_COVERAGE = {"parsed": 0.8, "published": 0.5, "categories": 0.5}
DEFNEWS_HEALTH_MIN_ARTICLES = 2

LOG_FORMATTER = "crawler.logformatter.DefnewsLogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
