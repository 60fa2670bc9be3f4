#!/usr/bin/env python3
"""Compare every file two test runs wrote (``pytest --basetemp=A`` at one commit, ``--basetemp=B`` at
another), with what legitimately differs between runs taken out: time stamps, the run folders and
checkout/venv paths, input sizes and checksums (inputs generated at test time embed their own
paths), and files generated at random by Hypothesis.  Used to show that a restructure changes no
output::

    git worktree add /tmp/old OLD && (cd /tmp/old && pip install -e . && pytest --basetemp=/tmp/a)
    pytest --basetemp=/tmp/b
    python scripts/compare_test_outputs.py /tmp/a /tmp/b --repo /tmp/old --repo "$PWD"
"""
from __future__ import annotations

import argparse
import collections
import gzip
import re
from pathlib import Path

BINARY = {".bam", ".bai", ".cram", ".crai", ".fa", ".fai", ".png", ".pyc", ".so", ".tbi", ".csi", ".gzi",
          ".sa", ".amb", ".ann", ".bwt", ".pac"}
RANDOM_INPUT_DIRS = re.compile(r"(gp|rt|bed)\d+$")        # Hypothesis-generated inputs
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
SUBS = [(re.compile(rb'"(modified_utc|created_utc)": ?"[^"]*"'), b'"T": "TS"'),
        (re.compile(rb"/tmp/pytest-of-[^/]+/pytest-\d+"), b"PYTMP"),
        (re.compile(rb'"bytes": ?\d+'), b'"bytes": 0'),
        (re.compile(rb'"sha256": ?"[0-9a-f]{64}"'), b'"sha256": "X"'),
        (re.compile(rb'([\[(]"[^"]*", )"[0-9a-f]{64}"'), rb'\1"X"'),
        (re.compile(rb"Date=[^\n]*"), b"Date=D")]


def normalise(data: bytes, root: Path, repos: list[str], renames: list[tuple[str, str]]) -> bytes:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return data
    data = data.replace(str(root).encode(), b"ROOT")
    for r in repos:
        data = data.replace(r.encode(), b"REPO")
    for old, new in renames:
        data = data.replace(new.encode(), old.encode())
    data = STAMP.sub("TS", data.decode("utf-8", "replace")).encode()
    for pattern, repl in SUBS:
        data = pattern.sub(repl, data)
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--repo", action="append", default=[], help="checkout or venv path to ignore (repeatable)")
    ap.add_argument("--renamed", action="append", default=[], metavar="OLD=NEW",
                    help="a path fragment that moved on purpose, e.g. tmbcalc/profiles/=tmbcalc/tmb/profile_files/")
    a = ap.parse_args()
    renames = [tuple(x.split("=", 1)) for x in a.renamed]
    same, differ, missing = 0, [], []
    for fa in sorted(p for p in a.before.rglob("*") if p.is_file()):
        rel = fa.relative_to(a.before)
        if fa.suffix in BINARY or ".tmp-" in fa.name or RANDOM_INPUT_DIRS.match(rel.parts[0]):
            continue
        fb = a.after / rel
        if not fb.exists():
            missing.append(str(rel))
        elif normalise(fa.read_bytes(), a.before, a.repo, renames) == normalise(fb.read_bytes(), a.after, a.repo,
                                                                                   renames):
            same += 1
        else:
            differ.append(str(rel))
    print(f"identical {same}, different {len(differ)}, missing after {len(missing)}")
    for pattern, n in collections.Counter(re.sub(r"\d+", "N", d) for d in differ).most_common():
        print(f"  {n} x {pattern}")
    return 1 if differ or missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
