"""The integrity check of report.py (`--check`): it must fail on any Kubecast gap, duplicate,
reordering, missing delivery, unconnected run or incomplete scenario (S-deliver, S6's normal
clients, hybrid clients, the soak), on hybrid polls that disagree with the socket or count an event
twice, and pass a clean run.
Run: python -m unittest discover bench/report (bench/compare.sh runs it first)."""

import unittest

from report import integrity_problems, markdown


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


def slow(system="kubecast", baseline=None, with_slow=None):
    return {"system": system, "clients": 10, "rate": 5, "baseline": baseline or deliver(system),
            "with_slow": with_slow or deliver(system), "slow": {"closes": {"4008": 1}, "connected": 1}}


def hybrid(disagreements=0, delivered_once=50, **bad):
    return {"clients": 10, "rate": 5, "deliver": deliver(**bad), "delivered_once": delivered_once,
            "expected_once": 50, "poll": {"merge": {"disagreements": disagreements}}}


def soak(**bad):
    row = deliver(**bad)
    row.setdefault("fanout_alive", True)
    return row


class IssueSevenScenariosTest(unittest.TestCase):
    def test_clean_s6_hybrid_and_soak_runs_pass(self):
        report = {"slow": [slow(), slow("socketio")], "hybrid": [hybrid()], "soak": [soak()]}
        self.assertEqual(integrity_problems(report), [])

    def test_a_normal_clients_loss_in_either_s6_run_fails(self):
        for run in ("baseline", "with_slow"):
            for field in ("gaps", "duplicates"):
                with self.subTest(run=run, field=field):
                    problems = integrity_problems({"slow": [slow(**{run: deliver(**{field: 2})})]})
                    self.assertEqual(len(problems), 1)
                    self.assertIn(run, problems[0])

    def test_s6_shows_the_servers_own_4008_count_when_it_keeps_one(self):
        from report import slow_table
        row = slow(with_slow=dict(deliver(), fanout_too_slow_closes=10, latency_us={}, fanout_rss_end_bytes=0))
        row.update(slow_share=0.01, slow_read_rate=2048, p99_change_us=0)
        row["baseline"].update(latency_us={}, fanout_rss_end_bytes=0)
        self.assertIn("server closed 10 with 4008", "\n".join(slow_table({"slow": [row]})))

    def test_s6_peer_rows_are_reported_not_judged(self):
        self.assertEqual(integrity_problems({"slow": [slow("socketio", with_slow=deliver("socketio", gaps=4))]}), [])

    def test_hybrid_disagreements_double_counts_and_socket_losses_fail(self):
        for bad in (hybrid(disagreements=1), hybrid(delivered_once=51), hybrid(gaps=1), hybrid(connected=0)):
            with self.subTest(bad=bad):
                self.assertEqual(len(integrity_problems({"hybrid": [bad]})), 1)

    def test_a_soak_with_a_gap_or_a_dead_fanout_fails(self):
        self.assertEqual(len(integrity_problems({"soak": [soak(gaps=1)]})), 1)
        self.assertEqual(len(integrity_problems({"soak": [soak(fanout_alive=False)]})), 1)
def recovery(**over):
    row = {"system": "kubecast", "clients": 100, "rate": 20, "connected": 100, "lost": 100, "resumes": 100,
           "resets": 0, "recovering_at_end": 0, "short_of_head": 0, "complete": True, "all_back_seconds": 0.4,
           "recovery_us": {"p50": 90_000, "p99": 300_000, "max": 400_000},
           "gaps": 0, "duplicates": 0, "out_of_order": 0, "missing": 0}
    row.update(over)
    return row


class RecoveryTest(unittest.TestCase):
    def test_clean_storm_and_failover_runs_pass(self):
        self.assertEqual(integrity_problems({"storm": [recovery()], "failover": [recovery()]}), [])

    def test_a_loss_across_reconnects_fails(self):
        for scenario in ("storm", "failover"):
            for field in ("gaps", "duplicates", "out_of_order", "missing"):
                with self.subTest(scenario=scenario, field=field):
                    problems = integrity_problems({scenario: [recovery(**{field: 2})]})
                    self.assertEqual(len(problems), 1)
                    self.assertIn(field, problems[0])

    def test_clients_not_back_or_a_cut_that_hit_nobody_is_incomplete(self):
        for bad in ({"complete": False, "recovering_at_end": 3}, {"lost": 0}):
            with self.subTest(bad=bad):
                problems = integrity_problems({"failover": [recovery(**bad)]})
                self.assertEqual(len(problems), 1)
                self.assertIn("incomplete", problems[0])

    def test_the_markdown_has_a_row_per_recovery_run(self):
        storm = [recovery(), recovery(system="socketio", resumes=0, resets=100)]
        text = markdown({"storm": storm, "failover": [recovery(lost=33)]}, [], {})
        self.assertIn("| Kubecast | S-storm (server killed and restarted) | 100×20/s | 100 | 100 / 0 | 0.40 s | 90 / 300 / 400 |", text)
        self.assertIn("| Socket.IO + redis-streams-adapter | S-storm (server killed and restarted) | 100×20/s | 100 | 0 / 100 |", text)
        self.assertIn("| Kubecast | S5 failover (busiest replica behind nginx killed) | 100×20/s | 33 |", text)

    def test_the_peer_is_reported_not_judged_in_the_storm(self):
        peer = recovery(system="socketio", gaps=4, complete=False)
        self.assertEqual(integrity_problems({"storm": [recovery(), peer]}), [])


if __name__ == "__main__":
    unittest.main()
