"""Every Atom, RSS and OPML file of a built folder through the W3C Feed Validator's own code.

The validator (https://github.com/w3c/feedvalidator, W3C software licence) is not on PyPI: give
the ``src`` folder of a checkout of it. It needs html5lib (``pip install html5lib``).

    .venv/bin/python scripts/w3c_validate.py --validator ~/feedvalidator/src public/
    .venv/bin/python scripts/w3c_validate.py --validator ... --level AAA --base http://localhost:8000/ public/

``--base`` is the address the folder is published at (the feeds' self links, ``base_url`` of the
build; the validator checks that they match). Prints each file's messages, the validator's own
text, and exits 1 when any file has one. The test suite checks the same rules without it
(tests/test_feeds_validity.py); this is for checking a real build the way the validator's site
would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a folder written by defnews build")
    parser.add_argument("--validator", type=Path, required=True,
                        help="the src folder of a w3c/feedvalidator checkout")
    parser.add_argument("--base", default="http://localhost:8000/",
                        help="the address the folder is published at (default: %(default)s)")
    parser.add_argument("--level", choices=("A", "AA", "AAA"), default="AA",
                        help="the validator's level: AA is its web site's (default), AAA experimental")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.validator))
    import feedvalidator  # type: ignore[import-not-found]
    from feedvalidator import compatibility
    from feedvalidator.formatter.text_plain import Formatter  # type: ignore[import-not-found]

    files = sorted(p for p in args.folder.rglob("*")
                   if p.suffix in (".atom", ".rss", ".xml") and p.is_file())
    flagged = 0
    for path in files:
        rel = path.relative_to(args.folder).as_posix()
        with path.open("rb") as f:
            try:
                events = feedvalidator.validateStream(
                    f, firstOccurrenceOnly=1, base=args.base.rstrip("/") + "/" + rel)["loggedEvents"]
            except feedvalidator.logging.ValidationFailure as failure:
                events = [failure.event]
        lines = Formatter(getattr(compatibility, args.level)(events))
        if lines:
            flagged += 1
            print(f"== {rel}")
            for line in lines:
                print(f"   {line}")
    print(f"{len(files)} files, {flagged} with messages ({args.level})")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
