"""Mistakes cost nothing: each one gets one line naming the file, value or address, exit 2,
no traceback, and public/ is left exactly as it was."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import pytest

from crawler.store import open_store
from defnews.cli import EXIT_USAGE, main, make_parser


@pytest.fixture
def public(tmp_path) -> Path:
    """A public folder with feeds, as a previous build left it."""
    public = tmp_path / "public"
    (public / "category").mkdir(parents=True)
    (public / "all.atom").write_text("<feed>previous</feed>", encoding="utf-8")
    (public / "category" / "naval.rss").write_text("<rss>previous</rss>", encoding="utf-8")
    return public


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own exit on a bad value
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    return code, err


def assert_one_line(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def unreachable_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def mistakes(tmp_path: Path, public: Path) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    afile = tmp_path / "a-file"
    afile.write_text("x", encoding="utf-8")
    notdb = tmp_path / "not-a-db.sqlite3"
    notdb.write_bytes(b"this is not a database, just text\n" * 100)
    port = unreachable_port()
    dsn = f"postgresql://defnews:secret@127.0.0.1:{port}/nothere"
    build = ["--public", str(public)]
    return {
        "store-under-a-file": (["run", "--store", str(afile / "s.sqlite3"), *build],
                               (str(afile), "not a folder")),
        "store-unwritable": (["run", "--store", "/proc/defnews-test.sqlite3", *build],
                             ("/proc/defnews-test.sqlite3",)),
        "store-not-a-database": (["run", "--store", str(notdb), *build],
                                 (str(notdb), "not a SQLite database")),
        "store-is-a-folder": (["crawl", "--store", str(tmp_path)], (str(tmp_path), "folder")),
        "postgres-unreachable": (["run", "--store", dsn, *build],
                                 (f"127.0.0.1:{port}/nothere", "PostgreSQL")),
        "postgres-unreachable-build": (["build", "--store", dsn, *build], (f"127.0.0.1:{port}",)),
        "limit-0": (["build", "--limit", "0", *build], ("--limit", "0")),
        "limit-not-a-number": (["run", "--limit", "many", *build], ("--limit", "many")),
        "feed-url-not-a-url": (["build", "--feed-url", "notaurl", *build], ("--feed-url", "notaurl")),
        "base-url-not-a-url": (["crawl", "--base-url", "j-defense", "--store", str(tmp_path / "s")],
                               ("--base-url", "j-defense")),
        "public-is-a-file": (["build", "--store", str(tmp_path / "s.sqlite3"), "--public", str(afile)],
                             (str(afile), "is a file")),
        "public-under-a-file": (["run", "--store", str(tmp_path / "s.sqlite3"),
                                 "--public", str(afile / "public")], (str(afile),)),
        "log-file-missing-folder": (["--log-file", str(tmp_path / "nope" / "x.log"), "build", *build],
                                    (str(tmp_path / "nope"), "does not exist")),
        "log-file-after-command": (["build", *build, "--log-file", str(tmp_path / "nope" / "x.log")],
                                   (str(tmp_path / "nope"),)),
        "serve-port-out-of-range": (["serve", "--public", str(public), "--port", "99999"],
                                    ("--port", "99999")),
        "every-not-a-duration": (["schedule", "--every", "often", *build], ("--every", "often")),
        "sources-file-missing": (["run", "--sources", str(tmp_path / "nope.toml"), "--store",
                                  str(tmp_path / "s.sqlite3"), *build], (str(tmp_path / "nope.toml"),)),
        # Refused before the store is created: no empty defnews.sqlite3 left behind.
        "only-unknown-source": (["crawl", "--only", "nosuchsource"], ("nosuchsource",)),
        "only-unknown-source-run": (["run", "--only", "jdefense,nosuch", *build], ("nosuch",)),
        "redis-unreachable": (["crawl", "--only", "jdefense", "--redis", f"redis://127.0.0.1:{port}/0"],
                              ("edis",)),  # "Redis at ... not reachable", or "needs scrapy-redis"
        "base-url-with-two-sites": (["crawl", "--base-url", "http://127.0.0.1:9/",
                                     "--sources", str(two_sites(tmp_path))], ("--base-url",)),
        "max-index-pages-negative": (["crawl", "--max-index-pages", "-1"], ("--max-index-pages", "-1")),
        "counter-walk-negative": (["run", "--counter-walk", "-3", *build], ("--counter-walk", "-3")),
        "serve-backlog-0": (["serve", "--public", str(public), "--backlog", "0"], ("--backlog", "0")),
        "serve-max-age-negative": (["serve", "--public", str(public), "--max-age", "-1"],
                                   ("--max-age", "-1")),
        # -s values the setting's type cannot take: named, before the store is made.
        "setting-not-a-number": (["crawl", "--only", "jdefense", "-s", "DOWNLOAD_DELAY=abc"],
                                 ("DOWNLOAD_DELAY=abc", "a number")),
        "setting-not-whole": (["run", "--only", "jdefense", "-s", "DOWNLOAD_TIMEOUT=1.5", *build],
                              ("DOWNLOAD_TIMEOUT=1.5", "a whole number")),
        "setting-not-a-bool": (["crawl", "--only", "jdefense", "-s", "ROBOTSTXT_OBEY=maybe"],
                               ("ROBOTSTXT_OBEY=maybe", "true or false")),
        "setting-not-json": (["crawl", "--only", "jdefense", "-s",
                              "DEFNEWS_HEALTH_MIN_COVERAGE={oops"],
                             ("DEFNEWS_HEALTH_MIN_COVERAGE", "JSON object")),
        "redis-bad-db": (["crawl", "--only", "jdefense", "--redis", "redis://127.0.0.1:6379/12x"],
                         ("12x",)),
        "store-folder-missing": (["crawl", "--only", "jdefense", "--store",
                                  str(tmp_path / "typo" / "s.sqlite3")],
                                 (str(tmp_path / "typo"), "does not exist")),
    }


def two_sites(tmp_path: Path) -> Path:
    path = tmp_path / "two-sites.toml"
    path.write_text(
        "\n".join(
            f'[[source]]\nkey = "{key}"\nname = "{key}"\nkind = "site"\nspider = "jdefense"\n'
            f'url = "https://{key}.example.org/"\nlanguage = "ja"\n'
            for key in ("site-a", "site-b")
        ),
        encoding="utf-8",
    )
    return path


CASES = [
    "store-under-a-file", "store-unwritable", "store-not-a-database", "store-is-a-folder",
    "postgres-unreachable", "postgres-unreachable-build", "limit-0", "limit-not-a-number",
    "feed-url-not-a-url", "base-url-not-a-url", "public-is-a-file", "public-under-a-file",
    "log-file-missing-folder", "log-file-after-command", "serve-port-out-of-range",
    "every-not-a-duration", "sources-file-missing", "only-unknown-source", "only-unknown-source-run",
    "redis-unreachable", "base-url-with-two-sites", "max-index-pages-negative",
    "counter-walk-negative", "serve-backlog-0", "serve-max-age-negative",
    "setting-not-a-number", "setting-not-whole", "setting-not-a-bool", "setting-not-json",
    "redis-bad-db", "store-folder-missing",
]


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_mistake_is_one_line_exit_2_and_costs_nothing(case, tmp_path, public, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, needles = mistakes(tmp_path, public)[case]
    before = snapshot(tmp_path)
    code, err = run_cli(argv, capsys)
    assert code == EXIT_USAGE, err
    assert_one_line(err, *needles)
    assert snapshot(tmp_path) == before  # no store, lock file, feed or log created
    assert not Path("/proc/defnews-test.sqlite3").exists()


def test_password_of_a_dsn_is_not_printed(tmp_path, public, capsys):
    port = unreachable_port()
    code, err = run_cli(["build", "--store", f"postgresql://u:hunter2@127.0.0.1:{port}/x",
                         "--public", str(public)], capsys)
    assert code == EXIT_USAGE and "hunter2" not in err and "u:***@" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: no unwritable folder")
def test_store_in_an_unwritable_folder(tmp_path, public, capsys):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    code, err = run_cli(["run", "--store", str(locked / "s.sqlite3"), "--public", str(public)], capsys)
    assert code == EXIT_USAGE
    assert_one_line(err, str(locked), "not writable")


def test_serve_on_a_port_in_use(tmp_path, public, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_cli(["serve", "--public", str(public), "--port", str(port)], capsys)
    assert code == EXIT_USAGE
    assert_one_line(err, f"127.0.0.1:{port}", "in use")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may listen on privileged ports")
def test_serve_on_a_privileged_port(public, capsys):
    code, err = run_cli(["serve", "--public", str(public), "--port", "80"], capsys)
    assert code == EXIT_USAGE
    assert_one_line(err, "127.0.0.1:80", "ermission")


# -- build refuses to empty a public folder ----------------------------------------------
def test_build_refuses_a_missing_store_over_feeds(tmp_path, public, capsys):
    before = snapshot(tmp_path)
    code, err = run_cli(["build", "--store", str(tmp_path / "typo.sqlite3"),
                         "--public", str(public)], capsys)
    assert code == EXIT_USAGE
    assert_one_line(err, str(tmp_path / "typo.sqlite3"), "does not exist", "--allow-empty")
    assert snapshot(tmp_path) == before  # the store was not created either


def test_build_refuses_an_empty_store_over_feeds(tmp_path, public, capsys):
    open_store(tmp_path / "empty.sqlite3").close()
    before = snapshot(public)
    code, err = run_cli(["build", "--store", str(tmp_path / "empty.sqlite3"),
                         "--public", str(public)], capsys)
    assert code == EXIT_USAGE
    assert_one_line(err, "holds no article", "--allow-empty")
    assert snapshot(public) == before


def test_allow_empty_forces_the_build(tmp_path, public, capsys):
    code, _ = run_cli(["build", "--store", str(tmp_path / "empty.sqlite3"), "--public",
                       str(public), "--allow-empty"], capsys)
    assert code == 0
    assert (public / "all.atom").read_text(encoding="utf-8") != "<feed>previous</feed>"


def test_sqlite_error_classes_are_recognised(tmp_path):
    """The store message tells a non-database apart from an unopenable file."""
    from defnews.preflight import store_error

    assert "not a SQLite database" in store_error(
        str(tmp_path / "x"), sqlite3.DatabaseError("file is not a database"))
    assert "cannot open or write" in store_error(
        str(tmp_path / "x"), sqlite3.OperationalError("unable to open database file"))


# -- global options before or after the command ---------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [["-q", "run"], ["run", "-q"], ["run", "--quiet"], ["-v", "run", "-q"]],
    ids=["before", "after", "after-long", "after-wins"],
)
def test_global_options_after_the_command(argv):
    args = make_parser().parse_args(argv)
    assert args.quiet is True


def test_log_file_after_the_command(tmp_path):
    args = make_parser().parse_args(["build", "--log-file", str(tmp_path / "x.log")])
    assert args.log_file == tmp_path / "x.log"
    args = make_parser().parse_args(["--log-file", str(tmp_path / "y.log"), "build"])
    assert args.log_file == tmp_path / "y.log" and args.quiet is False


@pytest.mark.parametrize("command", ["schedule", "health"])
def test_new_commands_have_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: defnews {command}") and "--store" in out


def test_db_status_of_a_missing_store_creates_none(tmp_path, capsys, monkeypatch):
    """`defnews db status` in the wrong folder used to create an empty defnews.sqlite3."""
    monkeypatch.chdir(tmp_path)
    code = main(["db", "status"])
    assert code == 1
    assert "does not exist" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_a_new_store_is_announced(tmp_path, capsys, monkeypatch):
    from defnews.preflight import check_store

    monkeypatch.chdir(tmp_path)
    check_store(str(tmp_path / "new.sqlite3"))
    assert capsys.readouterr().out == f"new store: {tmp_path / 'new.sqlite3'} (every article will be new)\n"
    check_store(str(tmp_path / "new.sqlite3"))  # the second time it exists: nothing said
    assert capsys.readouterr().out == ""
