"""Unit tests of bench/topics.py's parts that need no broker (the steady rate, the thread kinds, page faults).

  /usr/bin/python3 -m unittest bench/test_topics.py        (from the repository root)
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topics  # noqa: E402


def appends(rates, start_ms=1_000_000):
    """Append times (ms) of a run whose k-th second holds rates[k] records, evenly spread."""
    out = []
    for k, n in enumerate(rates):
        out += [start_ms + k * 1000 + (i * 1000) // n for i in range(n)]
    return out


class SteadyRateTest(unittest.TestCase):
    def test_warm_up_and_tail_are_left_out(self):
        # 3 slow seconds of warm-up, then 1,000/s for 20 s, then a slow tail of one second:
        # 30 % of the records are reached inside the fast part, 95 % before the tail.
        rate, seconds = topics.steady_rate(appends([100, 200, 300] + [1000] * 20 + [50]))
        self.assertEqual(1000, rate)
        self.assertGreaterEqual(seconds, 10)

    def test_median_not_mean(self):
        # One stalled second (a checkpoint) among steady ones does not move the figure.
        rate, _ = topics.steady_rate(appends([500] * 10 + [0] + [500] * 10))
        self.assertEqual(500, rate)

    def test_order_of_stamps_does_not_matter(self):
        stamps = appends([300] * 12)
        self.assertEqual(topics.steady_rate(stamps), topics.steady_rate(list(reversed(stamps))))

    def test_less_than_a_second_has_no_steady_rate(self):
        self.assertEqual((None, 0), topics.steady_rate(appends([5000])))


class ThreadKindTest(unittest.TestCase):
    def test_kinds(self):
        # Linux keeps the first 15 characters of a thread's name.
        self.assertEqual("jit", topics.thread_kind("C2 CompilerThre"))
        self.assertEqual("gc", topics.thread_kind("GC Thread#1"))
        self.assertEqual("kafka-clients", topics.thread_kind("Source Data Fet"))
        self.assertEqual("kafka-clients", topics.thread_kind("kafka-producer-"))
        self.assertEqual("tasks", topics.thread_kind("observe -> outp"))
        self.assertEqual("tasks", topics.thread_kind("Source: input -"))
        self.assertEqual("other", topics.thread_kind("flink-pekko.act"))


class MinorFaultsTest(unittest.TestCase):
    def test_first_touch_of_fresh_pages_counts(self):
        # 64 MiB from a fresh mapping: writing one byte a page touches each page for the first time.
        pages = 16384
        before = topics.minor_faults(os.getpid())
        buf = bytearray(pages * 4096)
        for i in range(0, len(buf), 4096):
            buf[i] = 1
        self.assertGreaterEqual(topics.minor_faults(os.getpid()) - before, pages // 2)


if __name__ == "__main__":
    unittest.main()
