"""Unit tests of bench/flame.py on synthetic stacks: no JFR, no JDK needed.

  /usr/bin/python3 -m unittest bench/test_flame.py        (from the repository root)
  cd bench && /usr/bin/python3 -m unittest test_flame
"""
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flame  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"

# 100 samples: main 100, run 100 inclusive, io.qparams.Hot.work 60 (self 50), java ... 10.
STACKS = {
    ("java.lang.Thread.run", "io.qparams.Main.main", "io.qparams.Hot.work"): 50,
    ("java.lang.Thread.run", "io.qparams.Main.main", "io.qparams.Hot.work",
     "java.util.Arrays.copyOf"): 10,
    ("java.lang.Thread.run", "io.qparams.Main.main", "org.apache.flink.Task.invoke"): 30,
    ("java.lang.Thread.run", "io.qparams.Main.main"): 9,
    ("java.lang.Thread.run", "weird.<Gen>&Co.m>"): 1,  # 1%: needs escaping, dropped at 2%
}


def boxes(svg):
    """{frame name: (x, width)} from the <title> tooltips of an SVG string (parsed for real)."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(SVG + "g"):
        title = g.find(SVG + "title").text
        rect = g.find(SVG + "rect")
        name = title[:title.rindex(" (")]
        out[name] = (float(rect.get("x")), float(rect.get("width")), title)
    return out


class CollapsedTest(unittest.TestCase):
    def test_lines_root_first_sorted_with_counts(self):
        lines = flame.collapsed_lines(STACKS)
        self.assertEqual(len(lines), 5)
        self.assertEqual(lines, sorted(lines))
        self.assertIn("java.lang.Thread.run;io.qparams.Main.main;io.qparams.Hot.work 50", lines)
        self.assertEqual(sum(int(l.rsplit(" ", 1)[1]) for l in lines), 100)

    def test_zero_weights_dropped(self):
        self.assertEqual(flame.collapsed_lines({("a.B.c",): 0, ("a.B.d",): 2}), ["a.B.d 2"])


class SharesTest(unittest.TestCase):
    def test_self_and_inclusive(self):
        total, by_self, by_incl = flame.top_frames(STACKS, 3)
        self.assertEqual(total, 100)
        self.assertEqual(by_self, [("io.qparams.Hot.work", 50),
                                   ("org.apache.flink.Task.invoke", 30),
                                   ("java.util.Arrays.copyOf", 10)])
        self.assertEqual(by_incl, [("java.lang.Thread.run", 100), ("io.qparams.Main.main", 99),
                                   ("io.qparams.Hot.work", 60)])

    def test_recursion_counted_once(self):
        stacks = {("a.A.r", "a.A.r", "a.A.r"): 4, ("b.B.x",): 4}
        total, by_self, by_incl = flame.top_frames(stacks, 5)
        self.assertEqual(dict(by_incl)["a.A.r"], 4)
        self.assertEqual(total, 8)

    def test_summary_markdown(self):
        text = flame.summary(STACKS, "CPU", "samples", 2, "100 events")
        self.assertIn("Total: 100 samples; 100 events.", text)
        self.assertIn("| 1 | `io.qparams.Hot.work` | 50.0 |", text)
        self.assertIn("| 2 | `io.qparams.Main.main` | 99.0 |", text)
        self.assertIn("No events", flame.summary({}, "CPU", "samples", 2))


class SvgTest(unittest.TestCase):
    def test_widths_proportional_and_nested(self):
        b = boxes(flame.render_svg(STACKS, "t", "samples", min_percent=0, width=1200))
        x0, full, _ = b["all"]
        self.assertAlmostEqual(full, 1200 - 2 * x0, places=1)
        self.assertAlmostEqual(b["java.lang.Thread.run"][1], full, places=1)
        self.assertAlmostEqual(b["io.qparams.Main.main"][1], full * 0.99, places=1)
        self.assertAlmostEqual(b["io.qparams.Hot.work"][1], full * 0.60, places=1)
        self.assertAlmostEqual(b["java.util.Arrays.copyOf"][1], full * 0.10, places=1)
        self.assertAlmostEqual(b["org.apache.flink.Task.invoke"][1], full * 0.30, places=1)
        # children sit inside their parent, side by side without overlap
        work, flink = b["io.qparams.Hot.work"], b["org.apache.flink.Task.invoke"]
        main = b["io.qparams.Main.main"]
        for child in (work, flink):
            self.assertGreaterEqual(child[0], main[0] - 1e-6)
            self.assertLessEqual(child[0] + child[1], main[0] + main[1] + 1e-6)
        self.assertTrue(work[0] + work[1] <= flink[0] + 1e-6
                        or flink[0] + flink[1] <= work[0] + 1e-6)

    def test_root_at_the_bottom(self):
        root = ET.fromstring(flame.render_svg(STACKS, "t", "samples", min_percent=0))
        ys = {g.find(SVG + "title").text.split(" (")[0]: float(g.find(SVG + "rect").get("y"))
              for g in root.iter(SVG + "g")}
        self.assertGreater(ys["all"], ys["java.lang.Thread.run"])
        self.assertGreater(ys["io.qparams.Main.main"], ys["io.qparams.Hot.work"])

    def test_tooltips_percent_and_escaping(self):
        svg = flame.render_svg(STACKS, "a <b> & c", "samples", min_percent=0)
        self.assertNotIn("weird.<Gen>", svg)
        self.assertIn("weird.&lt;Gen&gt;&amp;Co.m&gt;", svg)
        b = boxes(svg)  # parses, and the parser gives the names back unescaped
        self.assertIn("weird.<Gen>&Co.m>", b)
        self.assertIn("(1 sample, 1.00%; self 1.00%)", b["weird.<Gen>&Co.m>"][2])
        self.assertIn("(60 samples, 60.00%; self 50.00%)", b["io.qparams.Hot.work"][2])
        texts = [t.text for t in ET.fromstring(svg).iter(SVG + "text")]
        self.assertIn("a <b> & c", texts)
        self.assertTrue(any(t and t.startswith("total: 100 samples") for t in texts))

    def test_min_percent_omits_small_frames(self):
        b = boxes(flame.render_svg(STACKS, "t", "samples", min_percent=2))
        self.assertNotIn("weird.<Gen>&Co.m>", b)
        self.assertIn("java.util.Arrays.copyOf", b)
        b = boxes(flame.render_svg(STACKS, "t", "samples", min_percent=20))
        self.assertEqual(set(b), {"all", "java.lang.Thread.run", "io.qparams.Main.main",
                                  "io.qparams.Hot.work", "org.apache.flink.Task.invoke"})

    def test_bytes_and_empty(self):
        b = boxes(flame.render_svg({("a.B.c",): 3 * 1024 ** 2}, "t", "bytes", min_percent=0))
        self.assertIn("(3.0 MiB, 100.00%", b["a.B.c"][2])
        svg = flame.render_svg({}, "t", "samples")
        ET.fromstring(svg)
        self.assertIn("no samples", svg)

    def test_labels_fit(self):
        self.assertEqual(flame.label_for("io.qparams.Hot.work", 1000), "io.qparams.Hot.work")
        self.assertEqual(flame.label_for("io.qparams.Hot.work", 6 + 9 * flame.CHAR_W), "Hot.work")
        cut = flame.label_for("io.qparams.Hot.work", 6 + 6 * flame.CHAR_W)
        self.assertEqual(cut, "Hot...")
        self.assertEqual(flame.label_for("io.qparams.Hot.work", 10), "")

    def test_colors_by_package(self):
        self.assertEqual(flame.category("io.qparams.Hot.work")[0], "qparams")
        self.assertEqual(flame.category("org.apache.flink.Task.invoke")[0], "Flink")
        self.assertEqual(flame.category("org.apache.kafka.clients.X.poll")[0], "Kafka")
        self.assertEqual(flame.category("java.util.Arrays.copyOf")[0], "JDK")
        self.assertEqual(flame.category(flame.TRUNCATED)[0], "GC/VM/other")
        self.assertEqual(flame.category("com.fasterxml.Foo.bar"), flame.OTHER)
        self.assertNotEqual(flame.color("io.qparams.A.b")[:3], flame.color("java.lang.A.b")[:3])


class JfrTextTest(unittest.TestCase):
    TEXT = """jdk.ExecutionSample {
  startTime = 03:38:18.433
  sampledThread = "main" (javaThreadId = 1)
  state = "STATE_RUNNABLE"
  stackTrace = [
    io.qparams.Hot.work(float[], int) line: 3
    io.qparams.Hot$$Lambda$42/0x0000000800c0b000.run() line: -1
    java.lang.Thread.run()
  ]
}

jdk.ObjectAllocationSample {
  startTime = 03:38:18.500
  objectClass = byte[] (classLoader = bootstrap)
  weight = 239,5 kB
  eventThread = "main" (javaThreadId = 1)
  stackTrace = [
    io.qparams.Hot.alloc(int) line: 9
    ...
  ]
}

jdk.ExecutionSample {
  startTime = 03:38:18.533
  sampledThread = "main" (javaThreadId = 1)
  state = "STATE_RUNNABLE"
  stackTrace = null
}

jdk.ObjectAllocationInNewTLAB {
  objectClass = int[] (classLoader = bootstrap)
  allocationSize = 24 bytes
  tlabSize = 1.0 MB
  stackTrace = [
    a.B.c() line: 1
  ]
}
"""

    def test_parse(self):
        p = flame.parse_jfr_text(self.TEXT.splitlines(True))
        self.assertEqual(p.events[flame.CPU_EVENT], 2)
        self.assertEqual(p.stacks[flame.CPU_EVENT], {
            ("java.lang.Thread.run", "io.qparams.Hot$$Lambda.run", "io.qparams.Hot.work"): 1,
            ("[no stack]",): 1})
        self.assertEqual(p.stacks[flame.ALLOC_SAMPLE_EVENT],
                         {(flame.TRUNCATED, "io.qparams.Hot.alloc"): 245248})
        self.assertEqual(p.truncated[flame.ALLOC_SAMPLE_EVENT], 1)
        self.assertEqual(p.stacks["jdk.ObjectAllocationInNewTLAB"], {("a.B.c",): 24})

    def test_sizes_and_names(self):
        self.assertEqual(flame.parse_size("239.5 kB"), 245248)
        self.assertEqual(flame.parse_size("18.6 MB"), round(18.6 * 1024 ** 2))
        self.assertEqual(flame.parse_size("1 byte"), 1)
        self.assertIsNone(flame.parse_size("N/A"))
        self.assertEqual(flame.frame_name("    a.b.C.<init>(Object, int) line: 12"), "a.b.C.<init>")
        self.assertEqual(flame.frame_name("    a.C$$Lambda/0x00007f00.apply(Object)"),
                         "a.C$$Lambda.apply")


if __name__ == "__main__":
    unittest.main()
