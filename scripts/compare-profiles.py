#!/usr/bin/env python3
"""Compares two callgrind profiles of the same searches (from scripts/profile-searches.sh, one
per build) function by function: the inclusive instructions of each of Quarry's functions in
both, sorted by how much they moved. Tells where a change won and where it paid, which the
one-line total of `search_in` cannot.

    python3 scripts/compare-profiles.py BEFORE.1 AFTER.1 [ROWS] [MATCH]
    e.g. python3 scripts/compare-profiles.py /tmp/cg-old.1 /tmp/cg-new.1 20 quarry_engine

ROWS (default 20) limits the lines printed; MATCH (default quarry_) keeps only the functions
whose name holds it. Needs valgrind's callgrind_annotate.
"""
import re
import subprocess
import sys

LINE = re.compile(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(\S.*)$")


def inclusive(path, match):
    """Instructions per function, inclusive of what it calls, the largest entry per name (a
    function appears once per source file its inlined code came from)."""
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in text.splitlines():
        parsed = LINE.match(line)
        if not parsed:
            continue
        name = parsed.group(2)
        if match not in name:
            continue
        # Drop the binary in brackets, the file before the first colon and the call count.
        name = re.sub(r"\s*\[.*$", "", name).split(":", 1)[-1]
        name = re.sub(r"\s*\([\d,]+x\)$", "", name)
        count = int(parsed.group(1).replace(",", ""))
        found[name] = max(found.get(name, 0), count)
    return found


def main():
    before_path, after_path = sys.argv[1], sys.argv[2]
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    match = sys.argv[4] if len(sys.argv) > 4 else "quarry_"
    before = inclusive(before_path, match)
    after = inclusive(after_path, match)
    names = sorted(set(before) | set(after), key=lambda n: -abs(after.get(n, 0) - before.get(n, 0)))
    print(f"{'before M':>9} {'after M':>9} {'moved M':>9}  function")
    for name in names[:rows]:
        b, a = before.get(name, 0), after.get(name, 0)
        print(f"{b / 1e6:9.1f} {a / 1e6:9.1f} {(a - b) / 1e6:+9.1f}  {name[:160]}")


if __name__ == "__main__":
    main()
