"""The ``defnews`` command: help, exit codes, clear errors; and the plain ``scrapy crawl`` path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import defnews

from defnews.cli import EXIT_USAGE, main
from defnews.server import StaticServer

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "defnews" / "demo_site"


@pytest.mark.parametrize("command", [[], ["crawl"], ["build"], ["run"], ["demo"], ["serve"],
                                     ["sources"]],
                         ids=lambda c: c[0] if c else "top")
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: defnews")
    if command:
        assert "--store" in out or "--public" in out or "--sources" in out


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err


def test_bad_sources_file_names_the_line(tmp_path, capsys):
    bad = tmp_path / "sources.toml"
    bad.write_text(
        '[categories]\n"海上" = "naval"\n\n[[source]]\nkey = "x"\nname = "X"\nkind = "magazine"\n'
        'url = "https://x.example/feed"\nlanguage = "en"\n',
        encoding="utf-8",
    )
    assert main(["crawl", "--sources", str(bad), "--store", str(tmp_path / "s.db")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{bad}:7:" in err and "magazine" in err


def test_unknown_source_is_a_usage_error(tmp_path, capsys):
    code = main(["crawl", "--only", "nosuchsource", "--store", str(tmp_path / "s.db")])
    assert code == EXIT_USAGE
    assert "unknown source(s): nosuchsource" in capsys.readouterr().err


def test_build_from_an_empty_store_writes_empty_valid_feeds(tmp_path, capsys):
    public = tmp_path / "public"
    assert main(["build", "--store", str(tmp_path / "s.db"), "--public", str(public)]) == 0
    assert (public / "all.atom").is_file() and (public / "index.html").is_file()
    assert "Feeds in" in capsys.readouterr().out


def test_scrapy_crawl_works_from_the_checkout(tmp_path):
    """``scrapy crawl jdefense -O items.jsonl`` as Scrapy users expect (scrapy.cfg)."""
    out = tmp_path / "items.jsonl"
    with StaticServer(SITE) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "jdefense", "-O", str(out),
             "-a", f"base_url={server.url}", "-s", f"DEFNEWS_STORE={tmp_path / 's.sqlite3'}",
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=WARNING"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ),
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    articles = [i for i in items if i["type"] == "article"]
    assert len(articles) >= 30
    ref = next(a for a in articles if a["url"].endswith("/docs/mod/001933.html"))
    assert ref["url"] == "https://j-defense.ikaros.jp/docs/mod/001933.html"
    assert ref["published"] == "2024-10-22T18:15:00+09:00"


def test_output_is_written_whole(tmp_path):
    """``--output`` joins every crawler's items into one file, replaced atomically."""
    with StaticServer(SITE) as server:
        run = defnews("crawl", "--only", "jdefense", "--base-url", server.url, "--no-throttle",
                      "--store", str(tmp_path / "s.sqlite3"), "-o", str(tmp_path / "items.jsonl"),
                      cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = (tmp_path / "items.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["type"] in ("article", "ranking") for line in lines)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".items.jsonl.")]
    assert "Crawl summary" in run.stdout and "jdefense" in run.stdout
    # Which parser layer found each field, per article and as shares in the summary.
    articles = [json.loads(line) for line in lines if json.loads(line)["type"] == "article"]
    assert all(a["provenance"]["title"] and a["provenance"]["body"] for a in articles)
    assert "coverage: title      100%" in run.stdout and "WARNING" not in run.stdout


def test_sources_lists_the_packaged_sources(capsys):
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    assert "jdefense" in out and "https://j-defense.ikaros.jp/" in out
    assert "[confirmed]" in out and "[unverified]" in out


def test_sources_checks_a_file(tmp_path, capsys):
    bad = tmp_path / "sources.toml"
    bad.write_text('[categories]\n"海上" = "naval"\n[[source]]\nkey = "x"\n', encoding="utf-8")
    assert main(["sources", "--sources", str(bad)]) == EXIT_USAGE
    assert f"{bad}:3:" in capsys.readouterr().err


def test_site_source_without_a_spider_is_a_usage_error(tmp_path, capsys):
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[categories]\n"海上" = "naval"\n[[source]]\nkey = "other"\nname = "O"\nkind = "site"\n'
        'spider = "nosuchspider"\nurl = "https://other.example/"\nlanguage = "ja"\n',
        encoding="utf-8",
    )
    assert main(["crawl", "--sources", str(sources), "--store", str(tmp_path / "s.db")]) == EXIT_USAGE
    assert "no spider named 'nosuchspider'" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "tracebacks"), [((), False), (("-v",), True)],
                         ids=["default-one-line", "verbose-whole"])
def test_a_site_that_is_down_logs_one_line_per_error(tmp_path, flags, tracebacks):
    """A cron `defnews run` against a site that is down used to log ~30 lines of Scrapy
    traceback per failed request (1,300 lines for the packaged sources); each error is one
    line naming the URL and the reason now, and -v keeps the tracebacks."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: the connection is refused
    run = defnews(*flags, "crawl", "--only", "jdefense", "--base-url", f"http://127.0.0.1:{port}/",
                  "--no-throttle", "--store", str(tmp_path / "s.sqlite3"),
                  "-s", "RETRY_TIMES=0", "-s", "DEFNEWS_JDEFENSE_MAX_INDEX_PAGES=0", cwd=tmp_path)
    assert run.returncode == 1, run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if " ERROR: " in line]
    assert any(f"127.0.0.1:{port}/" in e and "refused" in e for e in errors), run.stderr[-2000:]
    assert ("Traceback (most recent call last)" in run.stderr) is tracebacks


# -- quiet cron runs, Scrapy's log, no remote control (#17 point 8) -----------------------
def crawl_site(tmp_path: Path, server: StaticServer, *flags: str):
    return defnews(*flags, "crawl", "--only", "jdefense", "--base-url", server.url,
                   "--no-throttle", "--store", str(tmp_path / "s.sqlite3"), cwd=tmp_path)


def test_quiet_prints_nothing_when_all_goes_well(tmp_path):
    with StaticServer(SITE) as server:
        run = crawl_site(tmp_path, server, "-q")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout == ""
    # Only problems reach the log: warnings and errors, never Scrapy's INFO lines.
    assert all(" WARNING: " in line or " ERROR: " in line
               for line in run.stderr.splitlines()), run.stderr[-3000:]


def test_quiet_prints_the_summary_of_a_run_that_failed(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[categories]\n"国際" = "world"\n[[source]]\nkey = "gone"\nname = "G"\n'
                       'kind = "feed"\nurl = "http://127.0.0.1:9/feed.xml"\nlanguage = "en"\n',
                       encoding="utf-8")
    run = defnews("-q", "crawl", "--sources", str(sources), "--store", str(tmp_path / "s.db"),
                  "-s", "RETRY_TIMES=0", cwd=tmp_path)
    assert run.returncode == 1
    assert "Crawl summary" in run.stdout and "FAILED" in run.stdout


@pytest.mark.parametrize(("flags", "scrapy_info"), [((), False), (("-v",), True)],
                         ids=["default", "verbose"])
def test_scrapy_logs_from_warning_unless_verbose(tmp_path, flags, scrapy_info):
    with StaticServer(SITE) as server:
        run = crawl_site(tmp_path, server, *flags)
    assert run.returncode == 0, run.stderr[-3000:]
    scrapy_lines = [line for line in run.stderr.splitlines()
                    if "[scrapy." in line and (" INFO: " in line or " DEBUG: " in line)]
    assert bool(scrapy_lines) is scrapy_info
    if not scrapy_info:
        assert len(run.stderr.splitlines()) < 40, run.stderr
    # Scrapy's telnet console (a remote-control server that runs code) never starts.
    assert "Telnet console listening" not in run.stderr
    assert "TelnetConsole" not in run.stderr
