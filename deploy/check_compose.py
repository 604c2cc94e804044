"""Offline checks of the Docker side of deploy/ (no Docker engine here): the compose file's
structure against the Dockerfile and the nginx template. Exit 1 with every problem listed.

    target/deploy-venv/bin/python deploy/check_compose.py
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy/compose/compose.yaml"
DOCKERFILE = ROOT / "deploy/docker/Dockerfile"
TEMPLATE = ROOT / "deploy/nginx/kubecast.conf.template"
DRAIN_WINDOW_S = 10  # the fanout's default --drain-window


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    if not match:
        raise ValueError(f"not a duration: {duration}")
    value, unit = int(match[1]), match[2]
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def problems(compose_text: str, dockerfile_text: str, template: str) -> list[str]:
    found: list[str] = []
    compose = yaml.safe_load(compose_text)
    services = compose["services"]
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile_text, re.M))
    for name, service in services.items():
        build = service.get("build")
        if build and build.get("target") not in targets:
            found.append(f"{name}: build target {build.get('target')!r} is not a stage of the Dockerfile ({sorted(targets)})")
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith(".") and not (COMPOSE.parent / source).exists():
                found.append(f"{name}: mounts {source}, which does not exist")
        for dep in service.get("depends_on", []):
            if dep not in services:
                found.append(f"{name}: depends on unknown service {dep}")
    fanouts = sorted(n for n, s in services.items() if (s.get("build") or {}).get("target") == "fanout")
    if len(fanouts) < 2:
        found.append(f"compose runs {len(fanouts)} fanout replica(s); the topology needs several")
    for name in fanouts:
        grace = seconds(services[name].get("stop_grace_period", "10s"))
        if grace <= DRAIN_WINDOW_S:
            found.append(f"{name}: stop_grace_period {grace}s is not above the {DRAIN_WINDOW_S}s drain window")
    upstreams = services["nginx"]["environment"]["KUBECAST_UPSTREAMS"]
    for name in fanouts:
        if f"server {name}:8080" not in upstreams:
            found.append(f"nginx: KUBECAST_UPSTREAMS does not name {name}:8080")
    for placeholder in ("${KUBECAST_UPSTREAMS}", "${KUBECAST_LISTEN}"):
        if placeholder not in template:
            found.append(f"{TEMPLATE.name}: {placeholder} is missing")
    return found


def main() -> int:
    found = problems(COMPOSE.read_text(), DOCKERFILE.read_text(), TEMPLATE.read_text())
    for problem in found:
        print(f"compose: {problem}", file=sys.stderr)
    if not found:
        print(f"compose: {COMPOSE.relative_to(ROOT)} is consistent with the Dockerfile and the nginx template")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
