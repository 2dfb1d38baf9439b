"""The HTTP cache policy for feeds: the cache may save bytes, never a request.

Scrapy's ``RFC2616Policy`` takes a response with ``Last-Modified`` and no ``Cache-Control``
(most static hosting) as fresh for a tenth of its age, and answers it from the cache without
asking: a feed last modified 100 days ago was not asked again for ten days, and its new
entries were missed. A feed reader must ask on every run; :class:`RevalidatePolicy` keeps
Scrapy's storage rules and its conditional headers (``If-None-Match`` / ``If-Modified-Since``
from the cached response) but never takes a cached response as fresh: every run sends the
request, an unchanged feed costs a 304 and is read from the cache.

It also never stands a cached copy in for a server error (Scrapy's policy serves the cached
feed on a 5xx): a feed that fails is reported as failing, not read as unchanged.
"""

from __future__ import annotations

from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Request, Response


class RevalidatePolicy(RFC2616Policy):
    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        # Always stale: the request goes out, conditional on the cached copy's validators.
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return response.status == 304
