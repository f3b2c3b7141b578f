"""What the qparams.torch tests share: a test case quiet about torch's expected notes, and producer
settings that reach no broker (the tests check what would be sent, never a delivery)."""
import unittest
import warnings

NOWHERE = dict(bootstrap_servers="127.0.0.1:1", producer_config={"log_level": 0}, queue_timeout=1.0)


class Quiet(unittest.TestCase):
    """torch 1.13's notes (reduce_range deprecated, calculate_qparams before any data) are expected here."""

    def setUp(self):
        warnings.filterwarnings("ignore", module="torch")
