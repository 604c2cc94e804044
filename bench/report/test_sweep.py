"""The sweep table and its check (`sweep.py --check`): rows sorted by size then interval, and any
loss in any run fails. Run: python -m unittest discover bench/report."""

import unittest

from sweep import problems, table


def run(interval, **bad):
    row = {"system": "kubecast-batched" if interval else "kubecast", "clients": 10, "rate": 5,
           "connected": 10, "deliveries": 100, "frames": 25, "deliveries_per_s": 50.0,
           "fanout_cpu_s_per_million": 2.0, "deliveries_per_cpu_second": 500000.0,
           "gaps": 0, "duplicates": 0, "out_of_order": 0, "missing": 0,
           "latency_us": {"p50": 1000, "p99": 2000, "p999": 3000}}
    row.update(bad)
    return {"batch_interval_ms": interval or None, "deliver": [row]}


class SweepTest(unittest.TestCase):
    def test_rows_go_by_interval_with_deliveries_per_frame(self):
        lines = table([run(100), run(0)])
        self.assertTrue(lines[2].startswith("| 0 |") and lines[3].startswith("| 100 |"))
        self.assertIn("| 4.0 |", lines[2])

    def test_a_loss_in_any_run_fails(self):
        self.assertEqual(problems([run(0), run(50)]), [])
        for field in ("gaps", "duplicates", "out_of_order", "missing"):
            with self.subTest(field=field):
                self.assertEqual(len(problems([run(0), run(50, **{field: 1})])), 1)

    def test_an_incomplete_run_fails(self):
        self.assertEqual(len(problems([{"failed": [["deliver", "died"]]}])), 1)


if __name__ == "__main__":
    unittest.main()
