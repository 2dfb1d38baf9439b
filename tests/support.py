"""Helpers shared by the end-to-end tests (not a test module)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def defnews(*args: str, cwd: Path) -> Run:
    """Run the ``defnews`` command in a subprocess (a Twisted reactor runs once per process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "defnews", *args],
        cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
