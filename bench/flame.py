#!/usr/bin/python3
"""CPU and allocation flame graphs from a Java Flight Recorder file (stdlib only).

  flame.py --jfr FILE.jfr --out-dir DIR [--title TEXT] [--min-percent 0.5] [--top 25]
           [--stack-depth 128] [--width 1200]

Writes DIR/cpu.svg and DIR/cpu.collapsed from jdk.ExecutionSample (each sample weighs 1), and
DIR/alloc.svg and DIR/alloc.collapsed from jdk.ObjectAllocationSample weighted by its `weight`
(bytes), or, in a recording without those, from jdk.ObjectAllocationInNewTLAB/OutsideTLAB
weighted by `allocationSize`. The .collapsed files are Brendan Gregg's collapsed-stack format
(`root;...;leaf count`, root first; flamegraph.pl and speedscope read them). Prints a markdown
summary on stdout: totals and the top frames by self and by inclusive share.

Frames are `package.Class.method`, full package, without the parameter list (overloads merge)
and with the per-run part of lambda/hidden class names removed (`Foo$$Lambda$42/0x...` becomes
`Foo$$Lambda`), so names compare across recordings. Record with e.g.
`-XX:StartFlightRecording=settings=profile,filename=x.jfr,dumponexit=true
-XX:FlightRecorderOptions=stackdepth=256` (the JVM records 64 frames unless told; deeper stacks
are drawn under a `[truncated]` root frame, and Flink's are often deeper). JDK 17's `profile`
samples Java stacks every 10 ms per running thread and allocations at up to 300 events/s
(`default`: 20 ms and 150/s; TLAB events are off in both). Only Java frames are sampled: time
in GC threads or native code does not appear in jdk.ExecutionSample.

Exit status: 0 when the graphs were written (even empty ones: the summary says so), 1 when the
`jfr` tool failed, 2 for a bad command line.
"""
import argparse
import colorsys
import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from xml.sax.saxutils import escape

CPU_EVENT = "jdk.ExecutionSample"
ALLOC_SAMPLE_EVENT = "jdk.ObjectAllocationSample"
ALLOC_TLAB_EVENTS = ("jdk.ObjectAllocationInNewTLAB", "jdk.ObjectAllocationOutsideTLAB")
EVENTS = (CPU_EVENT, ALLOC_SAMPLE_EVENT) + ALLOC_TLAB_EVENTS
ROOT = "all"
TRUNCATED = "[truncated]"  # pseudo root frame of stacks deeper than --stack-depth

# ---------------------------------------------------------------------------------------------
# Reading the recording.
#
# Why `jfr print` text and not `jfr print --json`: the JSON output repeats, for every frame, the
# whole method/class/class-loader/package/module object (~1 KiB per frame, ~7 KiB per
# two-frame event on a test recording: 3.8 MB of JSON for 527 CPU samples), so a few minutes of
# a Flink job with 40-frame stacks would be gigabytes of JSON to pipe and decode. The text output
# is one short line per frame (`pkg.Class.method(Args) line: 12`), ~20x smaller, and parses
# line by line in a streaming loop that keeps only the distinct stacks and their weights. The
# price: byte sizes are printed rounded to 4 significant digits ("239.5 kB", 1024-based), so
# allocation totals are exact to ~0.05% per event and unbiased in sum, which is plenty for
# shares. The locale is pinned to en-US because the JVM formats "239,5 kB" in e.g. de-DE.
# jfr print's default stack depth is 5 frames: --stack-depth must be passed (default 128 here).
# ---------------------------------------------------------------------------------------------

_UNITS = {"byte": 1, "bytes": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3,
          "TB": 1024 ** 4, "PB": 1024 ** 5, "EB": 1024 ** 6}
_LINE_SUFFIX = re.compile(r" line: -?\d+$")
_HIDDEN = re.compile(r"(\$\$Lambda)(\$\d+)?/0x[0-9a-fA-F]+|/0x[0-9a-fA-F]+")
_EVENT_START = re.compile(r"^([A-Za-z_][\w.]*) \{$")


def parse_size(text):
    """'239.5 kB' -> 245248, '24 bytes' -> 24, '1234' -> 1234; None when unparsable."""
    parts = text.strip().split()
    try:
        value = float(parts[0].replace(",", "."))
    except (IndexError, ValueError):
        return None
    factor = _UNITS.get(parts[1], None) if len(parts) > 1 else 1
    return None if factor is None else int(round(value * factor))


def frame_name(line):
    """'  io.x.Foo$$Lambda$42/0x0000000800c0b000.apply(Object) line: 3' -> 'io.x.Foo$$Lambda.apply'.

    Method and class names cannot hold '(' (hidden class names hold '/'), so the first '('
    starts the parameter list."""
    s = _LINE_SUFFIX.sub("", line.strip())
    paren = s.find("(")
    if paren > 0:
        s = s[:paren]
    if "/0x" in s:
        s = _HIDDEN.sub(lambda m: m.group(1) or "", s)
    return s


class Profiles:
    """Distinct stacks (tuples of frame names, root first) -> summed weight, per event type."""

    def __init__(self):
        self.stacks = {e: {} for e in EVENTS}
        self.events = {e: 0 for e in EVENTS}
        self.truncated = {e: 0 for e in EVENTS}
        self._names = {}

    def add(self, event, frames_leaf_first, weight, truncated=False):
        if event not in self.stacks:
            return
        names = self._names
        stack = tuple(names.setdefault(f, f) for f in reversed(frames_leaf_first))
        if truncated:
            stack = (TRUNCATED,) + stack
            self.truncated[event] += 1
        if not stack:
            stack = ("[no stack]",)
        table = self.stacks[event]
        table[stack] = table.get(stack, 0) + weight
        self.events[event] += 1


def parse_jfr_text(lines, profiles=None):
    """Feeds `jfr print` text output (an iterable of lines) into a Profiles and returns it."""
    p = profiles or Profiles()
    event = None
    frames = []
    truncated = False
    in_stack = False
    weight = None
    for line in lines:
        if in_stack:
            if line.startswith("  ]"):
                in_stack = False
            elif line.strip() == "...":
                truncated = True
            elif line.strip():
                frames.append(frame_name(line))
            continue
        if event is None:
            m = _EVENT_START.match(line.rstrip("\n"))
            if m:
                event, frames, truncated, weight = m.group(1), [], False, None
            continue
        if line.startswith("}"):
            if event == CPU_EVENT:
                p.add(event, frames, 1, truncated)
            elif weight is not None:
                p.add(event, frames, weight, truncated)
            event = None
        elif line.startswith("  stackTrace = ["):
            in_stack = True
        elif event == ALLOC_SAMPLE_EVENT and line.startswith("  weight = "):
            weight = parse_size(line[len("  weight = "):])
        elif event in ALLOC_TLAB_EVENTS and line.startswith("  allocationSize = "):
            weight = parse_size(line[len("  allocationSize = "):])
    return p


def jfr_tool():
    found = shutil.which("jfr")
    if found:
        return found
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "jfr"), os.X_OK):
        return os.path.join(home, "bin", "jfr")
    return None


def read_recording(path, stack_depth):
    tool = jfr_tool()
    if tool is None:
        raise RuntimeError("no `jfr` on PATH nor in $JAVA_HOME/bin (it comes with the JDK)")
    # Serial GC: on a 24 MB recording (103 MB of text) jfr print took 12 s and 2.3 GB of RSS with
    # the default G1 and 5 s and 350 MB with it, and it leaves the other cores alone. No -Xmx:
    # the heap needed grows with the recording's constant pools (128 MB was too little there).
    cmd = [tool, "-J-XX:+UseSerialGC", "-J-Duser.language=en", "-J-Duser.country=US", "print",
           "--stack-depth", str(stack_depth), "--events", ",".join(EVENTS), path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            encoding="utf-8", errors="replace", bufsize=1 << 20)
    profiles = parse_jfr_text(proc.stdout)
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(cmd), proc.returncode,
                                                       err.strip()[-500:]))
    return profiles


# ---------------------------------------------------------------------------------------------
# Collapsed stacks, the frame tree and the shares.
# ---------------------------------------------------------------------------------------------

def collapsed_lines(stacks):
    """{(root, ..., leaf): weight} -> sorted ['root;...;leaf weight', ...]."""
    return ["%s %d" % (";".join(s), w) for s, w in sorted(stacks.items()) if w > 0]


def write_collapsed(stacks, path):
    with open(path, "w", encoding="utf-8") as f:
        for line in collapsed_lines(stacks):
            f.write(line + "\n")


def flame_boxes(stacks, min_weight=0):
    """The rectangles of the flame graph: [(frame, depth, x, total, self)], the root ("all") at
    depth 0, x and widths in weight units, children left to right in name order.

    Works on the sorted stacks (a node is a run of stacks with a common prefix) and descends only
    into nodes of at least min_weight, so it never builds the full frame tree: with random,
    deep call paths that tree has about one node per frame of every distinct stack."""
    items = sorted((s, w) for s, w in stacks.items() if w > 0)
    total = sum(w for _, w in items)
    if total <= 0:
        return []
    boxes = [(ROOT, 0, 0, total, sum(w for s, w in items if not s))]
    todo = [(0, len(items), 0, 0)]  # a node: items[lo:hi] share a prefix of depth frames
    while todo:
        lo, hi, depth, x = todo.pop()
        i = lo
        while i < hi:
            stack, w = items[i]
            if len(stack) <= depth:  # ends at the node itself: its self weight, sorted first
                x += w
                i += 1
                continue
            name = stack[depth]
            j, node_total, node_self = i, 0, 0
            while j < hi and len(items[j][0]) > depth and items[j][0][depth] == name:
                node_total += items[j][1]
                if len(items[j][0]) == depth + 1:
                    node_self += items[j][1]
                j += 1
            if node_total >= min_weight:
                boxes.append((name, depth + 1, x, node_total, node_self))
                todo.append((i, j, depth + 1, x))
            x += node_total
            i = j
    return boxes


def top_frames(stacks, n):
    """(total, [(frame, self weight)], [(frame, inclusive weight)]), each list the n largest.

    Inclusive counts a frame once per stack, so recursion does not go over 100%."""
    self_w, incl_w, total = {}, {}, 0
    for stack, w in stacks.items():
        if w <= 0 or not stack:
            continue
        total += w
        self_w[stack[-1]] = self_w.get(stack[-1], 0) + w
        for frame in set(stack):
            incl_w[frame] = incl_w.get(frame, 0) + w
    key = lambda kv: (-kv[1], kv[0])
    return (total, sorted(self_w.items(), key=key)[:n], sorted(incl_w.items(), key=key)[:n])


# ---------------------------------------------------------------------------------------------
# The SVG.
# ---------------------------------------------------------------------------------------------

# (label, prefixes, hue in degrees); the first category whose prefix matches wins.
CATEGORIES = [
    ("qparams", ("io.qparams.",), 110),
    ("Flink", ("org.apache.flink.",), 210),
    ("Kafka", ("org.apache.kafka.", "kafka."), 280),
    ("JDK", ("java.", "javax.", "jdk.", "sun.", "com.sun."), 35),
    ("GC/VM/other", ("[",), 0),
]
OTHER = ("other libraries", 175)


def category(name):
    if name == ROOT:
        return CATEGORIES[-1][0], CATEGORIES[-1][2]
    for label, prefixes, hue in CATEGORIES:
        if name.startswith(prefixes):
            return label, hue
    if "." not in name:  # no package at all: VM-ish pseudo frames
        return CATEGORIES[-1][0], CATEGORIES[-1][2]
    return OTHER


def color(name):
    """Hue by package family, saturation/lightness varied by a stable hash of the name."""
    _, hue = category(name)
    h = zlib.crc32(name.encode("utf-8"))
    light = 0.62 + (h & 0xFF) / 255.0 * 0.16
    sat = 0.55 + ((h >> 8) & 0xFF) / 255.0 * 0.3
    if name == ROOT:
        sat, light = 0.0, 0.8
    r, g, b = colorsys.hls_to_rgb(hue / 360.0, light, sat)
    return "#%02x%02x%02x" % (int(r * 255), int(g * 255), int(b * 255))


def fmt_weight(w, unit):
    if unit == "bytes":
        for factor, suffix in ((1024 ** 3, "GiB"), (1024 ** 2, "MiB"), (1024, "KiB")):
            if w >= factor:
                return "%.1f %s" % (w / factor, suffix)
        return "%d bytes" % w
    return "{:,} {}".format(w, unit if w != 1 else unit.rstrip("s"))


CHAR_W = 7.0  # px per character of 12px monospace, a safe estimate for clipping labels


def label_for(name, width_px):
    """The text that fits in width_px: the full name, or Class.method, or a cut with '..'."""
    fits = int((width_px - 6) / CHAR_W)
    if fits < 3:
        return ""
    if len(name) <= fits:
        return name
    short = short_name(name)
    if len(short) <= fits:
        return short
    return short[:fits - 2] + ".." if fits > 4 else ""


def short_name(name):
    """'org.apache.flink.runtime.Foo.bar' -> 'Foo.bar' (class and method only)."""
    parts = name.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else name


def render_svg(stacks, title, unit, min_percent=0.5, width=1200, frame_h=16):
    """The flame graph (root at the bottom) of {(root, ..., leaf): weight} as an SVG string."""
    total = sum(w for w in stacks.values() if w > 0)
    pad = 10
    head = 62  # title, total line, legend
    boxes = flame_boxes(stacks, total * min_percent / 100.0)
    depth = max((b[1] for b in boxes), default=0) + 1
    height = head + depth * frame_h + pad * 2 + 14
    scale = (width - 2 * pad) / float(total) if total > 0 else 0.0
    e = lambda s: escape(s, {'"': "&quot;"})
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%d" '
        'viewBox="0 0 %d %d" font-family="Menlo, Consolas, \'DejaVu Sans Mono\', monospace" '
        'font-size="12">' % (width, height, width, height),
        '<rect x="0" y="0" width="%d" height="%d" fill="#fbfbf6"/>' % (width, height),
        '<text x="%d" y="22" font-size="16" font-weight="bold" text-anchor="middle">%s</text>'
        % (width // 2, e(title)),
        '<text x="%d" y="40" text-anchor="middle" fill="#333">total: %s; frames under %.2g%% '
        'omitted; hover for names and shares</text>' % (width // 2, e(fmt_weight(total, unit)),
                                                        min_percent),
    ]
    lx = pad
    for label, hue in [(c[0], c[2]) for c in CATEGORIES] + [OTHER]:
        r, g, b = colorsys.hls_to_rgb(hue / 360.0, 0.7, 0.0 if label.startswith("GC") else 0.7)
        out.append('<rect x="%d" y="48" width="10" height="10" fill="#%02x%02x%02x"/>'
                   '<text x="%d" y="57" font-size="11">%s</text>'
                   % (lx, int(r * 255), int(g * 255), int(b * 255), lx + 14, e(label)))
        lx += 14 + int(len(label) * 6.6) + 16
    if total <= 0:
        out.append('<text x="%d" y="%d" text-anchor="middle">no samples</text>'
                   % (width // 2, head + 20))
    base_y = head + pad + (depth - 1) * frame_h
    for name, d, x, node_total, node_self in boxes:
        bx = pad + x * scale
        bw = node_total * scale
        by = base_y - d * frame_h
        tip = "%s (%s, %.2f%%" % (name, fmt_weight(node_total, unit), 100.0 * node_total / total)
        if node_self:
            tip += "; self %.2f%%" % (100.0 * node_self / total)
        tip += ")"
        out.append('<g><title>%s</title><rect x="%.2f" y="%d" width="%.2f" height="%d" '
                   'fill="%s" rx="2" ry="2" stroke="#fbfbf6" stroke-width="0.5"/>'
                   % (e(tip), bx, by, bw, frame_h - 1, color(name)))
        text = label_for(name if d else "%s (%s)" % (ROOT, fmt_weight(total, unit)), bw)
        if text:
            out.append('<text x="%.2f" y="%d">%s</text>' % (bx + 3, by + frame_h - 4, e(text)))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# The markdown summary.
# ---------------------------------------------------------------------------------------------

def summary(stacks, heading, unit, n, note=""):
    total, by_self, by_incl = top_frames(stacks, n)
    lines = ["### %s" % heading, ""]
    if total <= 0:
        return "\n".join(lines + ["No events%s." % (" (%s)" % note if note else ""), ""])
    lines.append("Total: %s%s." % (fmt_weight(total, unit), "; " + note if note else ""))
    lines.append("")
    for what, rows in (("self", by_self), ("inclusive", by_incl)):
        lines += ["| # | top %d by %s | %% |" % (n, what), "| ---: | --- | ---: |"]
        for i, (frame, w) in enumerate(rows, 1):
            lines.append("| %d | `%s` | %.1f |" % (i, frame.replace("|", "\\|"), 100.0 * w / total))
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jfr", required=True, help="the .jfr recording")
    ap.add_argument("--out-dir", required=True, help="where cpu.svg, alloc.svg, *.collapsed go")
    ap.add_argument("--title", default=None, help="title line of both graphs and the summary")
    ap.add_argument("--min-percent", type=float, default=0.5,
                    help="omit frames under this share of the total in the SVGs (default 0.5)")
    ap.add_argument("--top", type=int, default=25, help="frames per summary table (default 25)")
    ap.add_argument("--stack-depth", type=int, default=128,
                    help="frames kept per stack (jfr print's own default is 5); default 128")
    ap.add_argument("--width", type=int, default=1200, help="SVG width in px (default 1200)")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.jfr):
        ap.error("no such file: %s" % args.jfr)
    if args.min_percent < 0 or args.top < 1 or args.stack_depth < 1 or args.width < 200:
        ap.error("--min-percent >= 0, --top >= 1, --stack-depth >= 1, --width >= 200")
    title = args.title or os.path.basename(args.jfr)

    t0 = time.monotonic()
    try:
        p = read_recording(args.jfr, args.stack_depth)
    except (RuntimeError, OSError) as exc:
        print("flame.py: %s" % exc, file=sys.stderr)
        return 1
    os.makedirs(args.out_dir, exist_ok=True)

    alloc_event = ALLOC_SAMPLE_EVENT
    alloc_stacks = p.stacks[ALLOC_SAMPLE_EVENT]
    alloc_events = p.events[ALLOC_SAMPLE_EVENT]
    alloc_trunc = p.truncated[ALLOC_SAMPLE_EVENT]
    if not alloc_stacks:
        alloc_event = " + ".join(ALLOC_TLAB_EVENTS)
        alloc_stacks = {}
        for ev in ALLOC_TLAB_EVENTS:
            for s, w in p.stacks[ev].items():
                alloc_stacks[s] = alloc_stacks.get(s, 0) + w
        alloc_events = sum(p.events[ev] for ev in ALLOC_TLAB_EVENTS)
        alloc_trunc = sum(p.truncated[ev] for ev in ALLOC_TLAB_EVENTS)

    graphs = [
        ("cpu", "CPU", p.stacks[CPU_EVENT], "samples", CPU_EVENT, p.events[CPU_EVENT],
         p.truncated[CPU_EVENT]),
        ("alloc", "allocation", alloc_stacks, "bytes", alloc_event, alloc_events, alloc_trunc),
    ]
    out = ["## Flame graphs: %s" % title, ""]
    for key, label, stacks, unit, event, count, trunc in graphs:
        write_collapsed(stacks, os.path.join(args.out_dir, key + ".collapsed"))
        svg = render_svg(stacks, "%s: %s (%s)" % (title, label, event), unit,
                         args.min_percent, args.width)
        with open(os.path.join(args.out_dir, key + ".svg"), "w", encoding="utf-8") as f:
            f.write(svg)
        note = "{:,} {} events".format(count, event)
        if trunc:
            note += (", {:,} with a truncated stack (under `{}`: deeper than the recording's"
                     " -XX:FlightRecorderOptions=stackdepth, 64 unless set, or than"
                     " --stack-depth {})").format(trunc, TRUNCATED, args.stack_depth)
        heading = "%s%s (`%s`)" % (label[0].upper(), label[1:],
                                    os.path.join(args.out_dir, key + ".svg"))
        out.append(summary(stacks, heading, unit, args.top, note))
    print("\n".join(out))
    print("flame.py: %s -> %s in %.1f s" % (args.jfr, args.out_dir, time.monotonic() - t0),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
