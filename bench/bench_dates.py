"""crawler.dates: parse_date over a realistic mix of forms, find_dates over a long body and
over adversarial inputs (to show that matching stays linear: no catastrophic backtracking).

    .venv/bin/python bench/bench_dates.py
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from _common import Table, fmt_rate, fmt_s, median, print_tables, timed

from crawler.dates import find_dates, parse_date

JST = ZoneInfo("Asia/Tokyo")
# The crawl time used as reference (as in tests/test_dates.py): a Friday.
REF = datetime(2025, 12, 26, 12, 0, tzinfo=JST)

# (group, text, needs the reference). The forms of crawler/dates.py's docstring and
# tests/test_dates.py, in roughly the proportions a crawl meets them: date lines and feed
# fields (numeric, RFC 822, ISO) most, then the Japanese forms of leads and titles.
MIX: list[tuple[str, str, bool]] = [
    ("numeric date line", "2025-3-5 09:33", False),
    ("numeric date line", "2024-10-22 18:15", False),
    ("numeric date line", "  2026-2-2 11:41\n", False),
    ("numeric date line", "2025/03/05(水) 10:00", False),
    ("numeric date line", "更新日:2024/10/22 9:05", False),
    ("RFC 822", "Tue, 22 Oct 2024 09:15:00 GMT", False),
    ("RFC 822", "Tue, 22 Oct 2024 09:15:00 +0900", False),
    ("RFC 822", "Mon, 10 Mar 2025 09:00:00 EST", False),
    ("RFC 822", "Thurs, 24 Oct 2024 10:00 +0000", False),
    ("ISO 8601", "2024-10-22T09:15:00+09:00", False),
    ("ISO 8601", "2024-10-22T09:15:00Z", False),
    ("ISO 8601", "2024-10-22T09:15:00.250-05:00", False),
    ("English", "October 22, 2024 3:30 PM", False),
    ("Japanese", "2024年10月22日(火)18時15分", False),
    ("Japanese", "2024年10月22日 午後3時30分", False),
    ("Japanese", "2025年5月6日(火・祝)", False),
    ("era", "令和6(2024)年10月18日(金)01時35分(現地時間)", False),
    ("era", "令和7年10月17日(金)11時~11時38分", False),
    ("era", "2025年(令和7年)9月17日(水)", False),
    ("era", "平成31年4月30日", False),
    ("era short", "R6.10.18", False),
    ("era short", "令6.10.18", False),
    ("yearless + reference", "10月17日(木)", True),
    ("yearless + reference", "(12月24日)", True),
    ("yearless + reference", "12月21日・22日", True),
    ("yearless + reference", "10月17日(木)15時00分~17時30分", True),
    ("full-width", "２０２４年１０月２２日（火）１８時１５分", False),
    ("full-width", "２０２４－１０－２２　１８：１５", False),
    ("full-width", "令和６（２０２４）年１０月１８日", False),
    (
        "lead sentence",
        "防衛省 統合幕僚監部は令和6(2024)年9月12日(木)、…を公表した。",
        False,
    ),
    (
        "lead sentence",
        "令和7(2025)年10月28日(火)08時57分~09時28分、…防衛大臣は…記者会見を行った。",
        False,
    ),
]

MIX_ROUNDS = 60  # calls per measurement: len(MIX) * MIX_ROUNDS
GROUP_ROUNDS = 200
REPEATS = 5
ADV_REPEATS = 5

ADVERSARIAL: list[tuple[str, str]] = [
    ('"2024" + " "*50000 + "年"', "2024" + " " * 50000 + "年"),
    ('"1"*50000', "1" * 50000),
    ('"12月"*20000', "12月" * 20000),
    ('"令和"*20000', "令和" * 20000),
    ('"１２月３日、"*10000', "１２月３日、" * 10000),
]


def _half(text: str) -> str:
    """The same adversarial shape at half the size (to see how time scales)."""
    for unit in ("１２月３日、", "12月", "令和"):
        if text.startswith(unit) and text == unit * (len(text) // len(unit)):
            return unit * (len(text) // len(unit) // 2)
    if text.startswith("2024 "):
        return "2024" + " " * ((len(text) - 5) // 2) + "年"
    return text[: len(text) // 2]


def article_body(target_chars: int = 120_000) -> str:
    """An article-like body: Japanese prose with dates of every kind, counts, ranks, numbers."""
    paragraphs = [
        "防衛省 統合幕僚監部は令和7(2025)年10月28日(火)、中国海軍の艦艇の動向について公表した。"
        "10月27日(月)午後3時頃、海上自衛隊第1ミサイル艇隊所属の「おおたか」が、"
        "与那国島の南約80kmの海域を北東に進むルーヤンIII級ミサイル駆逐艦1隻を確認した。",
        "訓練は2025年(令和7年)9月17日(水)から12月21日・22日まで、陸上自衛隊の第1空挺団"
        "など約1,200名、車両約150両、航空機約20機が参加して行われる。第5世代戦闘機F-35Aの"
        "運用試験も2025/11/05 10:00から同時に実施される予定だ。",
        "会見は現地時間10月17日23時30分に始まり、防衛大臣は「令和8年度予算の概算要求では"
        "約8.8兆円を計上する」と述べた。1佐以下陸自47名、海自12名、空自8名が派遣される。",
        "米国防総省は Tue, 22 Oct 2024 09:15:00 GMT に声明を出し、同盟国との共同訓練を"
        "2024-10-22T09:15:00+09:00 に開始したと発表した。日本時間では同日18時15分にあたる。",
        "同艦は全長約155m、満載排水量約7,500トンで、VLSを64セル備える。１２月３日、"
        "１２月１０日、１２月１７日の３回にわたり、沖縄本島と宮古島の間の海域を通過した。",
        "平成31年4月30日に退役した護衛艦の後継として、令和元年5月1日に就役した艦は、"
        "R6.10.18の定期検査を終え、2026年3月までに改修を完了する見込みである。",
        "なお、10月30日から11月2日にかけて開催される展示会には、国内外から約300社が出展し、"
        "3日間で延べ2万人の来場が見込まれている。入場は午前9時から午後5時まで。",
    ]
    text = "\n".join(paragraphs) + "\n"
    return (text * (target_chars // len(text) + 1))[:target_chars]


def _calls_of(entries: list[tuple[str, str, bool]], rounds: int) -> Callable[[], None]:
    calls = [(text, REF if needs_ref else None) for _, text, needs_ref in entries]

    def run_calls() -> None:
        for _ in range(rounds):
            for text, ref in calls:
                parse_date(text, reference=ref)

    return run_calls


def bench_mix() -> Table:
    for _, text, needs_ref in MIX:  # warm up (caches, first use of dateutil/zoneinfo)
        parse_date(text, reference=REF if needs_ref else None)
    groups: dict[str, list[tuple[str, str, bool]]] = {}
    for entry in MIX:
        groups.setdefault(entry[0], []).append(entry)
    # (label, forms, calls per measurement, function); the whole mix interleaves the forms.
    cases = [
        (group, len(entries), len(entries) * GROUP_ROUNDS, _calls_of(entries, GROUP_ROUNDS))
        for group, entries in groups.items()
    ]
    cases.append(("whole mix", len(MIX), len(MIX) * MIX_ROUNDS, _calls_of(MIX, MIX_ROUNDS)))
    # Round-robin over the cases, so that a slow patch of a shared machine hits one sample
    # of each case rather than every sample of one case.
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(REPEATS):
        for i, (_, _, _, fn) in enumerate(cases):
            times[i].append(timed(fn)[0])
    table = Table(
        "parse_date: realistic mix of forms",
        ["group", "forms", "µs per call (best)", "µs per call (median)", "calls/s (best)"],
    )
    for (label, forms, n, _), samples in zip(cases, times, strict=True):
        table.add(
            label,
            forms,
            f"{min(samples) / n * 1e6:.1f}",
            f"{median(samples) / n * 1e6:.1f}",
            fmt_rate(n, min(samples), "calls"),
        )
    table.notes.append(
        f"Groups: their forms x {GROUP_ROUNDS} rounds per measurement; whole mix: all "
        f"{len(MIX)} forms in turn x {MIX_ROUNDS} rounds; {REPEATS} measurements each, taken "
        "round-robin. Yearless forms get a reference (2025-12-26 12:00 JST). Date warnings "
        "(a weekday that moved the year) are logged in production; the crawler.dates logger "
        "is set to ERROR here."
    )
    return table


def bench_body() -> Table:
    body = article_body()
    find_dates(body[:2000], reference=REF)  # warm up
    times = []
    found: list = []
    for _ in range(REPEATS):
        elapsed, found = timed(lambda: find_dates(body, reference=REF))
        times.append(elapsed)
    table = Table(
        "find_dates: article-like body",
        ["input", "chars", "dates found", "time (best)", "time (median)", "throughput (best)"],
    )
    table.add(
        "Japanese prose with dates, counts, numbers",
        f"{len(body):,}",
        len(found),
        fmt_s(min(times)),
        fmt_s(median(times)),
        fmt_rate(len(body) / 1e6, min(times), "M chars"),
    )
    return table


def bench_adversarial() -> Table:
    table = Table(
        "find_dates: adversarial inputs (no catastrophic backtracking)",
        ["input", "chars", "dates", f"time (best of {ADV_REPEATS})", "half size", "full / half"],
    )
    cases = [(label, text, _half(text)) for label, text in ADVERSARIAL]
    full: list[list[float]] = [[] for _ in cases]
    half: list[list[float]] = [[] for _ in cases]
    found: list[int] = [0 for _ in cases]
    for _ in range(ADV_REPEATS):  # round-robin, full and half size alternating
        for i, (_, text, half_text) in enumerate(cases):
            elapsed, result = timed(partial(find_dates, text, reference=REF))
            full[i].append(elapsed)
            found[i] = len(result)
            half[i].append(timed(partial(find_dates, half_text, reference=REF))[0])
    for i, (label, text, _) in enumerate(cases):
        ratio = min(full[i]) / min(half[i]) if min(half[i]) > 0 else float("nan")
        table.add(
            f"`{label}`",
            f"{len(text):,}",
            found[i],
            fmt_s(min(full[i])),
            fmt_s(min(half[i])),
            f"{ratio:.1f}x",
        )
    table.notes.append(
        "full / half: time on the input divided by time on the same shape at half the size; "
        "about 2x means linear time, 4x would be quadratic."
    )
    return table


def run() -> list[Table]:
    # Warnings (a weekday that moved a year...) are logged per call; keep them out of timings.
    logging.getLogger("crawler.dates").setLevel(logging.ERROR)
    return [bench_mix(), bench_body(), bench_adversarial()]


if __name__ == "__main__":
    print_tables(run())
