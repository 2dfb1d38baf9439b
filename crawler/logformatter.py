"""Log lines an operator can read: a dropped item is named by its URL and reason, not dumped."""

from __future__ import annotations

from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class DefnewsLogFormatter(LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> LogFormatterResult:
        # Our DropItem messages start with the item's URL and say why; the whole item (a
        # page of HTML) would bury them.
        result = super().dropped(item, exception, response, spider)
        result["msg"] = "Dropped: %(exception)s"
        result["args"] = {"exception": exception}
        return result

    def item_error(self, item: Any, exception: BaseException, response: Any, spider: Any) -> LogFormatterResult:
        # One line with the item's URL and why (crawler.failures.reason_of), not the item.
        from crawler.failures import reason_of

        result = super().item_error(item, exception, response, spider)
        result["msg"] = "Failed %(url)s: item could not be processed (%(reason)s)"
        result["args"] = {"url": getattr(item, "url", None) or "(no URL)",
                          "reason": reason_of(exception)}
        return result
