"""Only for ``scrapyd-deploy``, which builds its egg with ``python setup.py bdist_egg``.

Everything about the package (metadata, packages, package data, the ``scrapy`` entry point
naming ``crawler.settings``) is in pyproject.toml.
"""

from setuptools import setup

setup()
