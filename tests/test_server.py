"""``defnews serve`` / the demo's static server: feed content types and conditional GET."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from defnews.server import StaticServer


@pytest.fixture
def public(tmp_path):
    (tmp_path / "category").mkdir()
    (tmp_path / "all.atom").write_text('<feed xmlns="http://www.w3.org/2005/Atom"/>', encoding="utf-8")
    (tmp_path / "category" / "naval.rss").write_text("<rss/>", encoding="utf-8")
    (tmp_path / "opml.xml").write_text("<opml/>", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        pytest.param("all.atom", "application/atom+xml; charset=utf-8", id="atom"),
        pytest.param("category/naval.rss", "application/rss+xml; charset=utf-8", id="rss"),
        pytest.param("opml.xml", "application/xml", id="opml"),
    ],
)
def test_feeds_are_served_with_their_content_type(public, path, content_type):
    with StaticServer(public) as server, urllib.request.urlopen(server.url + path) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == content_type


def test_unchanged_feed_answers_304(public):
    with StaticServer(public) as server:
        with urllib.request.urlopen(server.url + "all.atom") as response:
            last_modified = response.headers["Last-Modified"]
        request = urllib.request.Request(server.url + "all.atom",
                                         headers={"If-Modified-Since": last_modified})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request)
        info.value.close()
        assert info.value.code == 304


def test_server_binds_loopback_on_a_free_port(public):
    with StaticServer(public) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert not server.url.endswith(":0/")


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to serve"):
        StaticServer(tmp_path / "nope")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_serve_exits_128_plus_the_signal(public, signum):
    proc = subprocess.Popen([sys.executable, "-m", "defnews", "serve", "--public", str(public),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Serving ... at URL": the server listens
    assert "Serving" in line
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err[-2000:]
