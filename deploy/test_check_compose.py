"""check_compose.py finds each kind of inconsistency (deploy/check.sh runs these tests first)."""

import unittest

from check_compose import COMPOSE, DOCKERFILE, TEMPLATE, problems

GOOD = (COMPOSE.read_text(), DOCKERFILE.read_text(), TEMPLATE.read_text())


def broken(compose=None, dockerfile=None, template=None):
    c, d, t = GOOD
    return problems(compose or c, dockerfile or d, template or t)


class CheckComposeTest(unittest.TestCase):
    def test_the_committed_files_are_consistent(self):
        self.assertEqual(broken(), [])

    def test_an_unknown_build_target(self):
        self.assertRegex(" ".join(broken(compose=GOOD[0].replace("target: sim }", "target: simx }"))), "simx")

    def test_a_grace_period_inside_the_drain_window(self):
        self.assertRegex(" ".join(broken(compose=GOOD[0].replace("stop_grace_period: 15s", "stop_grace_period: 5s"))),
                         "stop_grace_period")

    def test_a_replica_nginx_does_not_name(self):
        self.assertRegex(" ".join(broken(compose=GOOD[0].replace("server fanout-3:8080", "server other:8080"))),
                         "fanout-3")

    def test_a_template_without_its_placeholders(self):
        self.assertRegex(" ".join(broken(template=GOOD[2].replace("${KUBECAST_UPSTREAMS}", ""))), "KUBECAST_UPSTREAMS")


if __name__ == "__main__":
    unittest.main()
