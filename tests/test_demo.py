"""``defnews demo``: a quiet summary, and feeds whose ids never depend on the ports it got."""

from __future__ import annotations

import contextlib
import logging
import socket
from pathlib import Path

import feedparser
import pytest
from support import defnews

from defnews.commands import DEMO_FEEDS_PORT, DEMO_SITE_PORT

RELATIVE_LINK_ENTRY = f"http://127.0.0.1:{DEMO_FEEDS_PORT}/asia-pacific/2026/03/asdf-second-f35b-squadron"


def test_demo_with_its_ports_taken_keeps_its_ids_and_stays_quiet(tmp_path: Path):
    held = []
    with contextlib.ExitStack() as stack:
        for port in (DEMO_SITE_PORT, DEMO_FEEDS_PORT):
            blocker = stack.enter_context(socket.socket())
            with contextlib.suppress(OSError):  # already taken by someone else: as good
                blocker.bind(("127.0.0.1", port))
                blocker.listen()
                held.append(port)
        run = defnews("demo", "--store", str(tmp_path / "demo.sqlite3"), "--public",
                      str(tmp_path / "public"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    served = run.stdout.splitlines()[0]
    if DEMO_FEEDS_PORT in held:
        assert f":{DEMO_FEEDS_PORT}/" not in served  # the feeds really were served elsewhere
    ids = [e.id for e in feedparser.parse(str(tmp_path / "public" / "all.atom")).entries]
    assert RELATIVE_LINK_ENTRY in ids
    assert not [i for i in ids if "127.0.0.1" in i and f":{DEMO_FEEDS_PORT}/" not in i]
    # Summary and feed list on stdout; the Scrapy log only at warning level.
    assert "Crawl summary" in run.stdout and "Feeds in" in run.stdout
    assert "[scrapy.core.engine] INFO" not in run.stderr
    assert "Telnet Password" not in run.stdout + run.stderr
    assert len(run.stderr.splitlines()) < 15


@pytest.mark.parametrize(("argv", "level"), [(["demo"], "WARNING"), (["demo", "-v"], "DEBUG"),
                                             (["-v", "demo"], "DEBUG"), (["run"], "INFO")],
                         ids=["demo", "demo-v", "v-demo", "run"])
def test_demo_logs_warnings_only_unless_verbose(argv, level):
    from defnews.cli import _setup_logging, make_parser

    before = list(logging.root.handlers)
    try:
        assert _setup_logging(make_parser().parse_args(argv)) == level
    finally:
        for handler in set(logging.root.handlers) - set(before):
            logging.root.removeHandler(handler)


def test_a_bad_demo_sources_file_is_named_as_the_user_gave_it(tmp_path: Path):
    """The error named the demo's temporary copy (/tmp/defnews-demo-…/sources.toml)."""
    mine = tmp_path / "my-sources.toml"
    mine.write_text('[categories]\n"国際" = "world"\n[[source]]\nkey = "x"\nname = "X"\n'
                    'kind = "magazine"\nurl = "{feeds_url}x.xml"\nlanguage = "en"\n',
                    encoding="utf-8")
    run = defnews("demo", "--sources", str(mine), "--store", str(tmp_path / "d.sqlite3"),
                  "--public", str(tmp_path / "public"), cwd=tmp_path)
    assert run.returncode == 2
    assert f"{mine}:6:" in run.stderr and "unknown kind 'magazine'" in run.stderr
    assert "defnews-demo-" not in run.stderr
