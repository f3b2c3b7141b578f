#!/usr/bin/env bash
# Regenerates the observer goldens from live torch into a temp dir and diffs them against the
# committed ones (observers/src/test/resources/golden). Exit 0 when identical; otherwise prints,
# per file, the case ids added / removed / changed (with the first differing step and field) and
# exits 1. Exit 2 when the generator itself fails.
#
#   observers/golden/regenerate-and-diff.sh            # diff only
#   observers/golden/regenerate-and-diff.sh --update   # ... and copy the new files over on a difference
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
committed="$here/../src/test/resources/golden"
python=/usr/bin/python3   # Debian's interpreter: the one that sees python3-torch and python3-numpy
update=false
[[ "${1:-}" == "--update" ]] && update=true

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! "$python" "$here/generate_goldens.py" "$tmp" 2>"$tmp.log"; then
    cat "$tmp.log" >&2
    rm -f "$tmp.log"
    echo "generator failed" >&2
    exit 2
fi
rm -f "$tmp.log"

set +e
"$python" - "$committed" "$tmp" <<'EOF'
import gzip, json, os, sys

committed, fresh = sys.argv[1], sys.argv[2]

def load(path):
    if not os.path.exists(path):
        return None, {}
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = json.loads(lines[0]) if lines else None
    cases = {}
    for line in lines[1:]:
        record = json.loads(line)
        cases[record["id"]] = record
    return header, cases

def first_difference(old, new):
    for key in sorted(set(old) | set(new)):
        if key == "steps":
            continue
        if old.get(key) != new.get(key):
            return "%s: %s -> %s" % (key, old.get(key), new.get(key))
    old_steps, new_steps = old.get("steps", []), new.get("steps", [])
    if len(old_steps) != len(new_steps):
        return "step count %d -> %d" % (len(old_steps), len(new_steps))
    for i, (a, b) in enumerate(zip(old_steps, new_steps)):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return "step %d %s: %s -> %s" % (i, key, str(a.get(key))[:80], str(b.get(key))[:80])
    return "?"

names = sorted(set(n for d in (committed, fresh) for n in os.listdir(d) if ".jsonl" in n))
differences = 0
for name in names:
    old_header, old = load(os.path.join(committed, name))
    new_header, new = load(os.path.join(fresh, name))
    lines = []
    if old_header != new_header:
        lines.append("  header: %s -> %s" % (old_header, new_header))
    for cid in sorted(set(old) - set(new)):
        lines.append("  removed: " + cid)
    for cid in sorted(set(new) - set(old)):
        lines.append("  added:   " + cid)
    changed = [cid for cid in old if cid in new and old[cid] != new[cid]]
    for cid in changed:
        lines.append("  changed: %s (%s)" % (cid, first_difference(old[cid], new[cid])))
    if list(old) != list(new) and not lines:
        lines.append("  case order changed")
    if lines:
        differences += 1
        print("%s: %d removed, %d added, %d changed" % (
            name, len(set(old) - set(new)), len(set(new) - set(old)), len(changed)))
        shown = lines[:40]
        print("\n".join(shown))
        if len(lines) > len(shown):
            print("  ... %d more" % (len(lines) - len(shown)))
total = sum(1 for _ in names)
if differences:
    print("goldens DIFFER from live torch in %d of %d files" % (differences, total))
    sys.exit(1)
print("goldens identical to live torch (%d files)" % total)
EOF
status=$?
set -e

if [[ $status -ne 0 ]]; then
    # The semantic comparison above found differences; --update replaces the committed files.
    if $update; then
        rm -f "$committed"/*.jsonl "$committed"/*.jsonl.gz
        cp "$tmp"/*.jsonl* "$committed"/
        echo "committed goldens updated from live torch (review, then rerun GoldenReplayTest)"
    fi
    exit 1
fi
# Byte-level check too (formatting, gzip framing): the generator is deterministic.
for f in "$tmp"/*.jsonl*; do
    if ! cmp -s "$f" "$committed/$(basename "$f")"; then
        echo "$(basename "$f"): same cases but different bytes" >&2
        exit 1
    fi
done
exit 0
