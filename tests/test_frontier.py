"""The shared-frontier switch: settings alone (CLI, env, Scrapy -s / Scrapyd) turn it on."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from crawler.frontier import RedisFrontier, RedisUnavailable, check_redis, redacted, redis_settings
from defnews.cli import _crawl_settings, make_parser


def project_settings(**extra: object) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for name, value in extra.items():
        settings.set(name, value, priority="cmdline")
    return settings


def test_without_a_url_the_addon_changes_nothing():
    settings = project_settings()
    RedisFrontier().update_settings(settings)
    assert settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy.dupefilters.RFPDupeFilter"


def test_a_url_moves_scheduler_and_dupefilter_to_redis():
    settings = project_settings(DEFNEWS_REDIS_URL="redis://r.example:6379/2",
                                DEFNEWS_REDIS_PREFIX="team")
    RedisFrontier().update_settings(settings)
    assert settings["SCHEDULER"] == "crawler.frontier_scheduler.SharedFrontierScheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["REDIS_URL"] == "redis://r.example:6379/2"
    assert settings["SCHEDULER_QUEUE_KEY"] == "team:%(spider)s:requests"
    assert settings.getbool("SCHEDULER_PERSIST")  # never flushed by the first process out


def test_an_explicit_setting_still_wins_over_the_addon():
    settings = project_settings(DEFNEWS_REDIS_URL="redis://127.0.0.1:6379/0",
                                SCHEDULER_QUEUE_KEY="mine:%(spider)s")
    RedisFrontier().update_settings(settings)
    assert settings["SCHEDULER_QUEUE_KEY"] == "mine:%(spider)s"


def test_the_addon_is_enabled_by_the_project_settings():
    assert "crawler.frontier.RedisFrontier" in project_settings().getdict("ADDONS")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0", id="password"),
        pytest.param("redis://user:s3cret@host/1", "redis://user:***@host/1", id="user-password"),
        pytest.param("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0", id="none"),
    ],
)
def test_messages_never_show_the_password(url, shown):
    assert redacted(url) == shown


def test_unreachable_redis_is_named():
    with pytest.raises(RedisUnavailable, match=r"Redis at redis://:\*\*\*@127\.0\.0\.1:1/0 is not"):
        check_redis("redis://:pw@127.0.0.1:1/0")


def test_redis_option_and_environment(monkeypatch):
    monkeypatch.delenv("DEFNEWS_REDIS_URL", raising=False)
    args = make_parser().parse_args(["crawl"])
    assert "DEFNEWS_REDIS_URL" not in _crawl_settings(args, "INFO")
    args = make_parser().parse_args(["crawl", "--redis", "redis://a:6379/0"])
    assert _crawl_settings(args, "INFO")["DEFNEWS_REDIS_URL"] == "redis://a:6379/0"
    monkeypatch.setenv("DEFNEWS_REDIS_URL", "redis://from-env:6379/0")
    args = make_parser().parse_args(["run"])
    assert _crawl_settings(args, "INFO")["DEFNEWS_REDIS_URL"] == "redis://from-env:6379/0"


def test_redis_settings_are_what_the_addon_applies():
    assert redis_settings("redis://x/0")["SCHEDULER_DUPEFILTER_KEY"] == "defnews:%(spider)s:dupefilter"
