"""The integrity check of report.py (`--check`): it must fail on any Kubecast gap, duplicate,
reordering, missing delivery, unconnected run or incomplete scenario, and pass a clean run.
Run: python -m unittest discover bench/report (bench/compare.sh runs it first)."""

import unittest

from report import integrity_problems


def deliver(system="kubecast", **bad):
    row = {"system": system, "clients": 10, "rate": 5, "connected": 10,
           "gaps": 0, "duplicates": 0, "out_of_order": 0, "missing": 0}
    row.update(bad)
    return row


class IntegrityTest(unittest.TestCase):
    def test_a_clean_run_passes(self):
        self.assertEqual(integrity_problems({"deliver": [deliver(), deliver("socketio")]}), [])

    def test_every_kind_of_loss_in_kubecast_fails(self):
        for field in ("gaps", "duplicates", "out_of_order", "missing"):
            with self.subTest(field=field):
                problems = integrity_problems({"deliver": [deliver(**{field: 1})]})
                self.assertEqual(len(problems), 1)
                self.assertIn(field, problems[0])

    def test_a_run_without_clients_fails(self):
        self.assertEqual(len(integrity_problems({"deliver": [deliver(connected=0)]})), 1)

    def test_an_incomplete_scenario_fails(self):
        problems = integrity_problems({"deliver": [], "failed": [["deliver 10x5", "server died"]]})
        self.assertEqual(problems, ["deliver 10x5: server died"])

    def test_a_loss_in_the_batched_kubecast_fails_too(self):
        problems = integrity_problems({"deliver": [deliver("kubecast-batched", gaps=2)]})
        self.assertEqual(len(problems), 1)

    def test_the_peer_is_reported_not_judged(self):
        self.assertEqual(integrity_problems({"deliver": [deliver("socketio", gaps=3)]}), [])


if __name__ == "__main__":
    unittest.main()
