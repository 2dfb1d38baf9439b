"""Item exporters that write our JSON contract (aware datetimes with their offset).

Scrapy's own JSON encoder formats datetimes without an offset; ours go through
:func:`crawler.items.to_json_dict`, the one place that decides the JSON form.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from scrapy.exporters import JsonItemExporter, JsonLinesItemExporter

from crawler.items import to_json_dict


def _json(item: Any) -> str:
    data = to_json_dict(item) if dataclasses.is_dataclass(item) else dict(item)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


class JsonLinesExporter(JsonLinesItemExporter):
    def export_item(self, item: Any) -> None:
        self.file.write((_json(item) + "\n").encode(self.encoding or "utf-8"))


class JsonExporter(JsonItemExporter):
    def export_item(self, item: Any) -> None:
        self._add_comma_after_first()
        self.file.write(_json(item).encode(self.encoding or "utf-8"))
