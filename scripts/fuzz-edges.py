#!/usr/bin/python3
"""libFuzzer's edge count of the unit over several corpora, as one number.

Usage: scripts/fuzz-edges.py REACH_REGEX PROFILE_SHOW REPLAY_LOG...

REPLAY_LOG: the -print_coverage=1 output of a replay of one corpus by
build-fuzz/cov (COVERED_FUNC/UNCOVERED_FUNC lines, edges per function).
PROFILE_SHOW: `llvm-profdata-14 show -all-functions` of the profile of the
same replays.  REACH_REGEX: the unit's files the configurations can reach.

Prints two lines:
- the edges reached by any of the corpora: per function the most any one
  reached, so a lower bound of the union (the logs give counts, not which
  edges);
- the same without the functions that run only before the first input
  (realize, class_init, the option checks) or are never called out of
  line (inlined everywhere): libFuzzer cannot count them, while the
  profile says they ran.
"""
import re
import sys


def main():
    reach = re.compile(sys.argv[1])
    counts = {}
    name = None
    with open(sys.argv[2], errors="replace") as f:
        for line in f:
            m = re.match(r"^  (\S+):$", line)
            if m:
                name = m.group(1)
                continue
            m = re.match(r"^\s+Function count: (\d+)", line)
            if m and name:
                counts[name] = int(m.group(1))
    edges = {}
    for log in sys.argv[3:]:
        with open(log, errors="replace") as f:
            for line in f:
                m = re.match(r"^(?:COVERED|UNCOVERED)_FUNC: hits: \d+ "
                             r"edges: (\d+)/(\d+) (\S+) (\S+):\d+$", line)
                if not m:
                    continue
                path = m.group(4).rsplit("/", 1)[-1]
                if not reach.search(path):
                    continue
                key = (path, m.group(3))
                got, total = int(m.group(1)), int(m.group(2))
                edges[key] = (max(got, edges.get(key, (0, 0))[0]), total)
    got = sum(g for g, _ in edges.values())
    total = sum(t for _, t in edges.values())
    # The profile names static functions FILE:NAME, others NAME
    unseen = sum(t for (path, fn), (g, t) in edges.items()
                 if g == 0 and max(counts.get(path + ":" + fn, 0),
                                   counts.get(fn, 0)) > 0)
    print("unit (reachable files) edges %d/%d (%d%%), the most of any "
          "corpus per function" % (got, total, 100 * got // max(total, 1)))
    print("unit (reachable files) edges %d/%d (%d%%), without the %d edges "
          "of functions run only at start-up or only inlined"
          % (got, total - unseen, 100 * got // max(total - unseen, 1),
             unseen))


if __name__ == "__main__":
    main()
