"""The ``defnews`` command: wires the crawler, the store and the feed builder together."""

from crawler import __version__

__all__ = ["__version__"]
