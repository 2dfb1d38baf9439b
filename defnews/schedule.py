"""``defnews schedule --every 15m``: crawl and build on an interval until stopped.

Each run is ``defnews run`` in a child process, because Twisted's reactor runs once per
process, and so that one run's crash cannot take the scheduler down. The child takes the
store's lock like any run: a manual run in progress makes that turn skip, not overlap.

SIGINT or SIGTERM reaches the scheduler only (the child runs in its own session, so Ctrl-C in
a terminal is not delivered twice); it is passed on once to the running child, which finishes
the write in progress, builds nothing from its interrupted crawl and exits; the scheduler then
exits 128 + N (130 on SIGINT, 143 on SIGTERM). A second signal is passed on too and forces the child to stop.
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

from defnews.lock import EXIT_LOCKED

logger = logging.getLogger("defnews.schedule")

# Options of `schedule` only: taken out of the command line given to each `run`.
_OWN_OPTIONS = ("--every", "--jitter", "--runs")


def run_argv(argv: Sequence[str]) -> list[str]:
    """The ``schedule`` command line turned into the ``run`` one each turn executes."""
    out: list[str] = []
    skip = False
    replaced = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in _OWN_OPTIONS:
            skip = True
            continue
        if arg.startswith(tuple(f"{o}=" for o in _OWN_OPTIONS)):
            continue
        if arg == "schedule" and not replaced:
            out.append("run")
            replaced = True
            continue
        out.append(arg)
    return out


class Scheduler:
    def __init__(self, argv: Sequence[str], every: float, jitter: float, runs: int | None) -> None:
        self.argv = run_argv(argv)
        self.every = every
        self.jitter = jitter
        self.runs = runs
        self.stopping = threading.Event()
        self.signals: list[int] = []
        self.child: subprocess.Popen[bytes] | None = None

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only flag and forward here: logging in a signal handler can deadlock.
        self.signals.append(signum)
        self.stopping.set()
        child = self.child
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    def run_once(self, turn: int) -> int:
        command = [sys.executable, "-m", "defnews", *self.argv]
        logger.info("run %d: %s", turn, " ".join(["defnews", *self.argv]))
        started = time.monotonic()
        self.child = subprocess.Popen(command, start_new_session=True)
        try:
            status = self.child.wait()
        finally:
            self.child = None
        took = time.monotonic() - started
        if status == 0:
            logger.info("run %d finished in %.0f s", turn, took)
        elif status == EXIT_LOCKED:
            logger.warning("run %d skipped: another run holds the store's lock", turn)
        elif status >= 128 or status < 0:
            logger.warning("run %d stopped by a signal (status %d); nothing built", turn, status)
        else:
            logger.error("run %d ended with status %d after %.0f s (see its summary above); "
                         "the next run goes ahead", turn, status, took)
        return status

    def loop(self) -> int:
        turn = 0
        while not self.stopping.is_set():
            turn += 1
            started = time.monotonic()
            status = self.run_once(turn)
            if status == 2:
                logger.error("run %d: bad usage or configuration; the schedule stops", turn)
                return 2
            if self.stopping.is_set() or (self.runs is not None and turn >= self.runs):
                break
            wait = max(0.0, self.every - (time.monotonic() - started))
            wait += random.uniform(0, self.jitter) if self.jitter > 0 else 0.0
            logger.info("next run in %.0f s", wait)
            self.stopping.wait(wait)
        if self.signals:
            logger.info("stopped by %s", signal.Signals(self.signals[0]).name)
            # As every command: 128 + the signal (130 SIGINT, 143 SIGTERM); systemd and
            # shells tell a requested stop from a normal end.
            return 128 + self.signals[0]
        return 0


# The shortest interval between runs of the live sites: an operator thinking in minutes must
# not hit a site sixty times as often. Shorter only against a mirror (--base-url).
MIN_EVERY = 60.0


def schedule(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from defnews.runner import UsageError

    if args.every < MIN_EVERY and not getattr(args, "base_url", None):
        raise UsageError(f"--every {args.every:g}s: the shortest interval between runs of the "
                         f"live sites is {MIN_EVERY:.0f}s (1m); shorter only with --base-url "
                         "(a mirror you own)")
    jitter = args.every / 10 if args.jitter is None else args.jitter
    scheduler = Scheduler(argv, args.every, jitter, args.runs)
    previous = {s: signal.signal(s, scheduler.on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    print(f"Running `defnews {' '.join(scheduler.argv)}` every {args.every:.0f} s "
          f"(+ up to {jitter:.0f} s jitter); Ctrl-C or SIGTERM stops.", flush=True)
    try:
        return scheduler.loop()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
