#!/usr/bin/env python3
"""Offline checks of the Kubecast Helm chart (run through deploy/check.sh, which makes the venv).

For every value set in deploy/helm/ci-values/*.yaml:
  1. `helm lint --strict` (Helm v4's Go SDK, bundled by helm-python-sdk) with those values;
  2. render the chart as an install (no cluster: `lookup` finds nothing);
  3. parse every document (duplicate keys are errors) and validate it against the Kubernetes
     JSON schemas of kubernetes-validate, strict (unknown fields are errors), for the oldest
     Kubernetes the chart supports and the newest the package knows; custom resources
     (ServiceMonitor) are checked for apiVersion/kind/metadata only, with a note;
  4. semantic assertions (RBAC verbs, probes, grace period, security contexts, references
     between objects, ingress timeouts), and, when the binaries are built, that each one
     accepts the command line and environment the chart gives it.
Then value sets that must be refused are rendered and must fail with the expected message, and
deploy/helm/rendered/default.yaml must equal the render of the defaults, and the values table
of deploy/helm/kubecast/README.md must list every value of values.yaml with its `# --` comment
(`--update` rewrites both).

Exits non-zero on any error.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "deploy/helm/kubecast"
CI_VALUES = ROOT / "deploy/helm/ci-values"
RENDERED = ROOT / "deploy/helm/rendered/default.yaml"
RELEASE = "kubecast"
NAMESPACE = "kubecast"

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion: preStop `sleep` is on by
# default from 1.30) and the newest whose schemas kubernetes-validate ships.
KUBE_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]

# API groups whose kinds are custom resources: no bundled schema.
CRD_GROUPS = {"monitoring.coreos.com"}

# What the producer's ClusterRole must grant by default: producer/src/kinds.rs, every kind but
# Endpoints, by API group.
DEFAULT_WATCH_RULES = {
    "": {"namespaces", "nodes", "pods", "services"},
    "apps": {"daemonsets", "deployments", "replicasets", "statefulsets"},
    "batch": {"cronjobs", "jobs"},
    "discovery.k8s.io": {"endpointslices"},
}
# producer/src/kinds.rs: kind -> (API group, resource); the defaults are every kind but Endpoints.
KIND_RESOURCES = {
    "Namespace": ("", "namespaces"), "Node": ("", "nodes"), "Pod": ("", "pods"),
    "Service": ("", "services"), "Endpoints": ("", "endpoints"),
    "Deployment": ("apps", "deployments"), "ReplicaSet": ("apps", "replicasets"),
    "StatefulSet": ("apps", "statefulsets"), "DaemonSet": ("apps", "daemonsets"),
    "Job": ("batch", "jobs"), "CronJob": ("batch", "cronjobs"),
    "EndpointSlice": ("discovery.k8s.io", "endpointslices"),
}
DEFAULT_KINDS = [k for k in KIND_RESOURCES if k != "Endpoints"]
CLUSTER_KINDS = {"Namespace", "Node"}
READ_VERBS = {"get", "list", "watch"}
# What producer/src/lease/elector.rs calls: get_opt (get), create, replace (update).
LEASE_VERBS = {"get", "create", "update"}

# Value sets the chart must refuse, with a part of the expected message.
INVALID_VALUE_SETS = [
    (
        "bundled and external Redis together",
        {"externalRedis": {"url": "redis://r:6379/0"}},
        "choose one Redis",
    ),
    (
        "a Redis URL with a scheme the binaries do not speak",
        {"redis": {"enabled": False}, "externalRedis": {"url": "https://r:6380/0"}},
        "is not supported",
    ),
    (
        "a Sentinel Redis URL without a master name",
        {"redis": {"enabled": False}, "externalRedis": {"url": "redis+sentinel://s:26379"}},
        "a Sentinel URL is",
    ),
    (
        "a Redis Cluster URL with a database other than 0",
        {"redis": {"enabled": False}, "externalRedis": {"url": "redis+cluster://n:6379/2"}},
        "only db 0",
    ),
    (
        "no Redis at all",
        {"redis": {"enabled": False}},
        "no Redis configured",
    ),
    (
        "two producers without leader election",
        {"producer": {"leaderElection": {"enabled": False}}},
        "needs producer.leaderElection.enabled",
    ),
    (
        "an HS256 secret shorter than 32 bytes",
        {"fanout": {"auth": {"hs256": {"secret": "too-short"}}}},
        "at least 32 bytes",
    ),
    (
        "a write verb in producer.rbac.extraRules",
        {"producer": {"rbac": {"extraRules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]}}},
        "verbs",
    ),
    (
        "an unknown kind",
        {"producer": {"kinds": ["Pod", "Gizmo"]}},
        "must be one of",
    ),
]


class Failures:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        item = f"{where}: {' '.join(message.split())}"
        if item not in self.items:
            self.items.append(item)

    def check(self, ok: bool, where: str, message: str) -> None:
        if not ok:
            self.add(where, message)


# --- YAML --------------------------------------------------------------------------------------

class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def split_documents(text: str) -> list[str]:
    return [d for d in re.split(r"^---[ \t]*$", text, flags=re.M) if d.strip()]


# --- schemas -----------------------------------------------------------------------------------

# kubernetes-validate re-reads the 1.3 MB definitions file for every document; read each once.
kv_utils.schema_contents = functools.lru_cache(maxsize=None)(kv_utils.schema_contents)


def validate_schema(doc: dict, where: str, failures: Failures, notes: set[str]) -> None:
    api_version = str(doc.get("apiVersion", ""))
    kind = doc.get("kind")
    meta = doc.get("metadata")
    if not api_version or not kind or not isinstance(meta, dict) or not meta.get("name"):
        failures.add(where, "apiVersion, kind and metadata.name are required")
        return
    if api_version.split("/")[0] in CRD_GROUPS:
        if not isinstance(doc.get("spec"), dict):
            failures.add(where, f"{kind} has no spec")
        notes.add(f"{kind} ({api_version}) is a custom resource: checked for apiVersion, kind, "
                  "metadata and spec only (no schema offline)")
        return
    for version in KUBE_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            failures.add(where, f"Kubernetes {version} schema: {path}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            failures.add(where, e.message)


# --- helpers over the rendered objects ---------------------------------------------------------

def objects_of(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]


def name_of(doc: dict) -> str:
    return doc["metadata"]["name"]


def workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d.get("kind") in ("Deployment", "StatefulSet", "DaemonSet")]


def component(doc: dict) -> str | None:
    return doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")


def one(docs: list[dict], kind: str, comp: str) -> dict | None:
    found = [d for d in objects_of(docs, kind) if component(d) == comp]
    return found[0] if len(found) == 1 else None


def pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"].get("labels", {})


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def args_of(container: dict) -> dict[str, str | None]:
    """`--flag=value` / `--flag` arguments as a dict (value None for a bare flag)."""
    out: dict[str, str | None] = {}
    for arg in container.get("args", []):
        if arg.startswith("--"):
            flag, _, value = arg.partition("=")
            out[flag] = value if "=" in arg else None
    return out


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    if not match:
        raise ValueError(f"unparsed duration {duration!r}")
    return float(match.group(1)) * units[match.group(2)]


# --- semantic assertions -----------------------------------------------------------------------

def check_security(docs: list[dict], where: str, f: Failures) -> None:
    for w in workloads(docs):
        pod = w["spec"]["template"]["spec"]
        pod_ctx = pod.get("securityContext", {})
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            at = f"{where}: {w['kind']}/{name_of(w)} container {c['name']}"
            ctx = c.get("securityContext", {})
            non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
            uid = ctx.get("runAsUser", pod_ctx.get("runAsUser"))
            f.check(non_root is True, at, "runAsNonRoot must be true")
            f.check(uid is not None and uid != 0, at, f"runAsUser must be a non-zero uid (is {uid})")
            f.check(ctx.get("readOnlyRootFilesystem") is True, at, "readOnlyRootFilesystem must be true")
            f.check(ctx.get("allowPrivilegeEscalation") is False, at,
                    "allowPrivilegeEscalation must be false")
            f.check("ALL" in ctx.get("capabilities", {}).get("drop", []), at,
                    "capabilities.drop must contain ALL")
            f.check(not ctx.get("privileged"), at, "must not be privileged")
            image = c.get("image", "")
            f.check(bool(image) and not image.endswith(":latest") and ":" in image.split("/")[-1]
                    or "@sha256:" in image, at, f"image {image!r} needs a pinned tag or digest")
            f.check("resources" in c and c["resources"].get("requests"), at, "resources.requests missing")


def expected_grants(values: dict) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(ClusterRole grants, per-namespace Role grants) for the watched kinds, by API group."""
    kinds = values["producer"]["kinds"] or DEFAULT_KINDS
    per_namespace = bool(values["producer"]["namespaces"])
    cluster: dict[str, set[str]] = {}
    namespaced: dict[str, set[str]] = {}
    for kind in kinds:
        group, resource = KIND_RESOURCES[kind]
        target = namespaced if per_namespace and kind not in CLUSTER_KINDS else cluster
        target.setdefault(group, set()).add(resource)
    for rule in values["producer"]["rbac"]["extraRules"]:
        for group in rule["apiGroups"]:
            cluster.setdefault(group, set()).update(rule["resources"])
    return cluster, namespaced


def grants_of(role: dict, where: str, f: Failures) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    at = f"{where}: {role['kind']} {role['metadata'].get('namespace', '')}/{name_of(role)}"
    for rule in role.get("rules") or []:
        verbs = set(rule.get("verbs", []))
        f.check(verbs <= READ_VERBS, at, f"only get/list/watch allowed, found {sorted(verbs - READ_VERBS)}")
        for field in ("apiGroups", "resources", "verbs"):
            f.check("*" not in rule.get(field, []), at, f"no wildcard in {field}")
        for group in rule.get("apiGroups", []):
            granted.setdefault(group, set()).update(rule.get("resources", []))
    return granted


def check_rbac(docs: list[dict], values: dict, where: str, f: Failures, is_default: bool) -> None:
    producer = one(docs, "Deployment", "producer")
    cluster_roles = objects_of(docs, "ClusterRole")
    roles = objects_of(docs, "Role")
    lease_roles = [r for r in roles if any("coordination.k8s.io" in rule.get("apiGroups", []) for rule in r["rules"])]
    watch_roles = [r for r in roles if r not in lease_roles]
    if not values["producer"]["rbac"]["create"]:
        f.check(not cluster_roles and not roles, where, "no RBAC expected with producer.rbac.create=false")
        return
    want_cluster, want_namespaced = expected_grants(values)
    f.check(len(cluster_roles) == (1 if want_cluster else 0), where,
            f"expected {1 if want_cluster else 'no'} ClusterRole, found {len(cluster_roles)}")
    if is_default:
        f.check(want_cluster == DEFAULT_WATCH_RULES and not want_namespaced, where, "the default kinds changed")
    for role in cluster_roles:
        got = grants_of(role, where, f)
        f.check(got == want_cluster, f"{where}: ClusterRole {name_of(role)}",
                f"grants {got}, expected exactly {want_cluster}")
    namespaces = sorted(r["metadata"]["namespace"] for r in watch_roles)
    f.check(namespaces == (sorted(values["producer"]["namespaces"]) if want_namespaced else []), where,
            f"per-namespace watch Roles in {namespaces}, expected one in each of producer.namespaces")
    for role in watch_roles:
        got = grants_of(role, where, f)
        f.check(got == want_namespaced, f"{where}: Role {role['metadata']['namespace']}/{name_of(role)}",
                f"grants {got}, expected exactly {want_namespaced}")
    refs = {(b["roleRef"]["kind"], b["metadata"].get("namespace"), b["roleRef"]["name"])
            for b in objects_of(docs, "ClusterRoleBinding") + objects_of(docs, "RoleBinding")}
    for role in cluster_roles + roles:
        f.check((role["kind"], role["metadata"].get("namespace"), name_of(role)) in refs,
                f"{where}: {role['kind']}/{name_of(role)}", "is not bound")
    if producer is None:
        return
    sa = producer["spec"]["template"]["spec"].get("serviceAccountName")
    for b in objects_of(docs, "ClusterRoleBinding") + objects_of(docs, "RoleBinding"):
        subjects = {(s["kind"], s["name"], s.get("namespace")) for s in b.get("subjects", [])}
        f.check(subjects == {("ServiceAccount", sa, NAMESPACE)}, f"{where}: {b['kind']}/{name_of(b)}",
                f"must bind only the producer's ServiceAccount {sa}, binds {subjects}")
    args = args_of(producer["spec"]["template"]["spec"]["containers"][0])
    if "--leader-elect" not in args:
        f.check(not lease_roles, where, "no lease Role expected without leader election")
        return
    f.check(args.get("--lease-namespace") == NAMESPACE, where,
            f"--lease-namespace must be the release namespace (is {args.get('--lease-namespace')})")
    f.check(len(lease_roles) == 1, where, "expected one lease Role")
    for role in lease_roles:
        at = f"{where}: Role {name_of(role)}"
        f.check(role["metadata"]["namespace"] == NAMESPACE, at, "the lease Role must be in the release namespace")
        verbs: set[str] = set()
        for rule in role["rules"]:
            f.check(rule.get("apiGroups") == ["coordination.k8s.io"] and rule.get("resources") == ["leases"],
                    at, "only coordination.k8s.io leases")
            names = rule.get("resourceNames")
            if names is not None:
                f.check(names == [args.get("--lease-name")], at,
                        f"resourceNames {names} must be the --lease-name {args.get('--lease-name')}")
            verbs |= set(rule.get("verbs", []))
        f.check(verbs == LEASE_VERBS, at,
                f"lease verbs must be {sorted(LEASE_VERBS)} (what the elector calls), are {sorted(verbs)}")


def check_producer(docs: list[dict], values: dict, where: str, f: Failures, is_default: bool) -> None:
    producer = one(docs, "Deployment", "producer")
    if producer is None:
        f.add(where, "expected one producer Deployment")
        return
    at = f"{where}: Deployment/{name_of(producer)}"
    replicas = producer["spec"].get("replicas")
    container = producer["spec"]["template"]["spec"]["containers"][0]
    args = args_of(container)
    f.check(replicas == values["producer"]["replicaCount"], at, f"replicas {replicas} != producer.replicaCount")
    if is_default:
        f.check(replicas == 2, at, f"the default producer runs 2 replicas (has {replicas})")
    if replicas and replicas > 1:
        f.check("--leader-elect" in args, at, "more than one producer needs --leader-elect")
    env = {e["name"]: e for e in container.get("env", [])}
    f.check("REDIS_URL" in env, at, "REDIS_URL must be set")
    if values["producer"]["metrics"]["enabled"]:
        port = int(args.get("--metrics-listen", "").rsplit(":", 1)[-1] or 0)
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        f.check(ports.get("metrics") == port, at, f"--metrics-listen port {port} != containerPort {ports}")
        probe = container.get("livenessProbe", {}).get("httpGet", {})
        f.check(probe.get("path") == "/healthz" and probe.get("port") == "metrics", at,
                "liveness must be /healthz on the metrics port")
    else:
        f.check(args.get("--metrics-listen") == "", at, "metrics disabled needs --metrics-listen=")


def check_fanout(docs: list[dict], values: dict, where: str, f: Failures) -> None:
    fanout = one(docs, "Deployment", "fanout")
    if fanout is None:
        f.add(where, "expected one fanout Deployment")
        return
    at = f"{where}: Deployment/{name_of(fanout)}"
    pod = fanout["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = args_of(container)
    drain = seconds(args.get("--drain-window") or "10s")
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    f.check(grace > drain + pre_stop, at,
            f"terminationGracePeriodSeconds {grace} must exceed preStop {pre_stop} s + drain window {drain} s")
    f.check(pre_stop > 0 or values["fanout"]["shutdown"]["preStopSleepSeconds"] == 0, at, "preStop sleep missing")
    ready = container.get("readinessProbe", {}).get("httpGet", {})
    live = container.get("livenessProbe", {}).get("httpGet", {})
    f.check(ready.get("path") == "/readyz", at, f"readiness must probe /readyz (is {ready.get('path')})")
    f.check(live.get("path") == "/healthz", at, f"liveness must probe /healthz (is {live.get('path')})")
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    listen_port = int(args["--listen"].rsplit(":", 1)[-1])
    f.check(ports.get("http") == listen_port, at, f"--listen port {listen_port} != containerPort {ports}")
    f.check(ready.get("port") == "http" and live.get("port") == "http", at, "probes must use the http port")
    f.check(not args["--listen"].startswith("127.") and "[::1]" not in args["--listen"], at,
            "the fanout must listen on a pod address, not loopback")
    f.check(pod.get("automountServiceAccountToken") is False, at, "the fanout needs no API token")
    mode = values["fanout"]["auth"]["mode"]
    has_key = "--jwt-secret-file" in args or "--jwt-public-key-file" in args
    f.check(has_key == (mode != "none"), at, f"auth mode {mode}: key file flag present={has_key}")
    f.check(("--allow-unauthenticated" in args) == (mode == "none"), at,
            "--allow-unauthenticated only with auth mode none")
    f.check("--jwt-secret" not in args and not any(e["name"] == "KUBECAST_JWT_SECRET" for e in container.get("env", [])),
            at, "the JWT secret must come from a mounted file, not a flag or env")
    if has_key:
        path = args.get("--jwt-secret-file") or args.get("--jwt-public-key-file") or ""
        mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
        f.check(any(path.startswith(m.rstrip("/") + "/") for m in mounts), at, f"key file {path} is not mounted")
    hpa = objects_of(docs, "HorizontalPodAutoscaler")
    if values["fanout"]["autoscaling"]["enabled"]:
        f.check(len(hpa) == 1 and hpa[0]["spec"]["scaleTargetRef"]["name"] == name_of(fanout), at,
                "the HPA must target the fanout Deployment")
        f.check("replicas" not in fanout["spec"], at, "with an HPA the Deployment must not set replicas")
        metrics = {m["type"] for m in hpa[0]["spec"]["metrics"]} if hpa else set()
        f.check("Resource" in metrics, at, "the HPA must scale on CPU")
    else:
        f.check(not hpa, at, "no HPA expected")
        f.check(fanout["spec"].get("replicas") == values["fanout"]["replicaCount"], at, "replicas != fanout.replicaCount")
    public = {("/", "Exact"), ("/ws", "Exact"), ("/events", "Exact"), ("/snapshot", "Exact"),
              ("/kubecast.js", "Exact"), ("/client/", "Prefix"), ("/dashboard/", "Prefix")}
    for ing in objects_of(docs, "Ingress"):
        paths = {(p["path"], p["pathType"]) for rule in ing["spec"]["rules"] for p in rule["http"]["paths"]}
        backends = {p["backend"]["service"]["name"] for rule in ing["spec"]["rules"] for p in rule["http"]["paths"]}
        iat = f"{where}: Ingress/{name_of(ing)}"
        f.check(backends == {name_of(s) for s in objects_of(docs, "Service") if component(s) == "fanout"}, iat,
                f"must route to the fanout Service only, routes to {backends}")
        if values["fanout"]["ingress"]["exposeOperationalEndpoints"]:
            f.check(paths == {("/", "Prefix")}, iat, f"expected one / Prefix path, found {paths}")
        else:
            f.check(paths == public, iat, f"must route exactly the public routes (not /metrics, /healthz, "
                                          f"/readyz): {sorted(paths ^ public)} differ")
    for ing in objects_of(docs, "Ingress") if values["fanout"]["ingress"]["nginxAnnotations"] else []:
        ann = ing["metadata"].get("annotations", {})
        iat = f"{where}: Ingress/{name_of(ing)}"
        for key in ("proxy-read-timeout", "proxy-send-timeout"):
            value = ann.get(f"nginx.ingress.kubernetes.io/{key}", "0")
            f.check(int(value) >= 3600, iat, f"{key} must be >= 3600 for WebSockets (is {value})")
        f.check(ann.get("nginx.ingress.kubernetes.io/proxy-buffering") == "off", iat, "proxy-buffering must be off")


def check_references(docs: list[dict], values: dict, where: str, f: Failures) -> None:
    """Services, PDBs and ServiceMonitors select real pods and ports; Secrets referenced exist."""
    pods = [(w, pod_labels(w)) for w in workloads(docs)]
    for svc in objects_of(docs, "Service"):
        at = f"{where}: Service/{name_of(svc)}"
        selected = [w for w, labels in pods if selects(svc["spec"].get("selector", {}), labels)]
        f.check(len(selected) == 1, at, f"selects {len(selected)} workloads, expected 1")
        for w in selected:
            names = {p["name"] for c in w["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
            for port in svc["spec"]["ports"]:
                target = port.get("targetPort")
                f.check(not isinstance(target, str) or target in names, at, f"targetPort {target} not a container port")
    for pdb in objects_of(docs, "PodDisruptionBudget"):
        selected = [w for w, labels in pods if selects(pdb["spec"]["selector"]["matchLabels"], labels)]
        f.check(len(selected) == 1, f"{where}: PodDisruptionBudget/{name_of(pdb)}", "must select one workload")
    services = objects_of(docs, "Service")
    for sm in objects_of(docs, "ServiceMonitor"):
        at = f"{where}: ServiceMonitor/{name_of(sm)}"
        matched = [s for s in services if selects(sm["spec"]["selector"]["matchLabels"], s["metadata"].get("labels", {}))]
        f.check(bool(matched), at, "selects no Service")
        for ep in sm["spec"]["endpoints"]:
            f.check(any(ep["port"] in {p.get("name") for p in s["spec"]["ports"]} for s in matched), at,
                    f"port {ep['port']} is not a port of the selected Services")
    rendered = {name_of(s) for s in objects_of(docs, "Secret")}
    existing = {v for v in (values["fanout"]["auth"]["hs256"]["existingSecret"],
                            values["fanout"]["auth"]["rs256"]["existingSecret"],
                            values["redis"]["auth"]["existingSecret"],
                            values["externalRedis"]["existingSecret"],
                            values["externalRedis"]["tls"]["caSecret"]) if v}
    for w in workloads(docs):
        spec = w["spec"]["template"]["spec"]
        refs = [v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v]
        for c in spec["containers"]:
            refs += [e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                     if "secretKeyRef" in e.get("valueFrom", {})]
        for ref in refs:
            f.check(ref in rendered or ref in existing, f"{where}: {w['kind']}/{name_of(w)}",
                    f"references Secret {ref}, neither rendered nor given as an existing Secret")
    for np in objects_of(docs, "NetworkPolicy"):
        if component(np) == "redis":
            allowed = [peer["podSelector"]["matchLabels"].get("app.kubernetes.io/component")
                       for rule in np["spec"]["ingress"] for peer in rule["from"]]
            f.check(sorted(allowed) == ["fanout", "producer"], f"{where}: NetworkPolicy/{name_of(np)}",
                    f"Redis ingress must come only from producer and fanout, allows {allowed}")


def check_flags(docs: list[dict], where: str, f: Failures, binaries: dict[str, Path]) -> None:
    """The built binary accepts the rendered command line: clap parses and validates every
    argument (and KUBECAST_* / REDIS_URL variable given as a literal value) before acting on a
    trailing --help, so `<binary> <args> --help` exits 0 exactly when all of them parse."""
    for w in workloads(docs):
        comp = component(w)
        binary = binaries.get(comp or "")
        if binary is None:
            continue
        for c in w["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e["value"] for e in c.get("env", [])
                   if "value" in e and (e["name"].startswith("KUBECAST_") or e["name"] == "REDIS_URL")}
            run = subprocess.run([str(binary), *c.get("args", []), "--help"], env=env,
                                 capture_output=True, text=True)
            error = (run.stderr.strip().splitlines() or ["?"])[0]
            if run.returncode != 0:
                f.add(f"{where}: {comp}", f"kubecast-{comp} refuses the rendered arguments: {error}")
                continue
            for e in c.get("env", []):
                name = e["name"]
                if name == "REDIS_URL" or (name.startswith("KUBECAST_") and name != "KUBECAST_REDIS_PASSWORD"):
                    f.check(f"[env: {name}=" in run.stdout, f"{where}: {comp}",
                            f"env {name} is not read by kubecast-{comp} (not in its --help)")


def find_binaries() -> tuple[dict[str, Path], str]:
    """The built kubecast-producer and kubecast-fanout (target/debug, else target/release)."""
    found: dict[str, Path] = {}
    for comp in ("producer", "fanout"):
        for profile in ("debug", "release"):
            binary = ROOT / "target" / profile / f"kubecast-{comp}"
            if binary.exists():
                found[comp] = binary
                break
    if len(found) == 2:
        return found, "rendered command lines parsed by the built binaries (`<args> --help`)"
    return found, "SKIPPED: build kubecast-producer and kubecast-fanout (cargo build --workspace --bins) to check them"


# --- rendering -----------------------------------------------------------------------------------

def render(chart, values: dict) -> dict[str, str]:
    return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


# The order `helm install` applies kinds in (Helm's releaseutil.InstallOrder, the kinds used here).
INSTALL_ORDER = [
    "NetworkPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "ConfigMap",
    "PersistentVolumeClaim", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
    "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Ingress",
]

GENERATED = re.compile(r'^\s*kubecast\.io/generated: "true"\s*$', re.M)


def committed_text(rendered: dict[str, str]) -> str:
    """The render as one file, like `helm template`; generated secrets get a fixed placeholder."""
    placeholder = "PGdlbmVyYXRlZCBhdCBpbnN0YWxsPg=="  # base64("<generated at install>")
    out = [
        "# Rendered from deploy/helm/kubecast with its default values (release \"kubecast\",\n"
        "# namespace \"kubecast\"), for readers without Helm. Generated secrets show a placeholder.\n"
        "# Do not edit: deploy/check.sh fails when this is stale; refresh with deploy/check.sh --update.\n"
    ]
    docs = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        for doc in split_documents(rendered[path]):
            if GENERATED.search(doc):
                head, sep, data = doc.partition("\ndata:\n")
                data = re.sub(r"^(  [\w.-]+: ).*$", rf"\g<1>{placeholder}", data, flags=re.M)
                doc = head + sep + data
            parsed = yaml.safe_load(doc)
            if parsed is None:
                continue
            rank = INSTALL_ORDER.index(parsed["kind"]) if parsed["kind"] in INSTALL_ORDER else len(INSTALL_ORDER)
            docs.append((rank, parsed["metadata"]["name"], path, doc.strip()))
    for _, _, path, doc in sorted(docs):
        out.append(f"---\n# Source: {path}\n{doc}\n")
    return "".join(out)


# --- the chart README's values table -------------------------------------------------------------

README = CHART / "README.md"
TABLE_START, TABLE_END = "<!-- values:start -->", "<!-- values:end -->"
KEY_LINE = re.compile(r"^( *)([A-Za-z0-9_]+):(.*)$")


def documented_values(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(key path, description) of every value with a `# --` comment in values.yaml, in file
    order, and the paths of scalar values that lack one. A commented key is a leaf: what is
    nested under it is its default, not more values."""
    rows: list[tuple[str, str]] = []
    undocumented: list[str] = []
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    leaf_indent: int | None = None
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if leaf_indent is not None and stripped and indent > leaf_indent:
            continue
        leaf_indent = None
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped[1:].strip())
            continue
        match = KEY_LINE.match(line)
        if not match:
            pending = None
            continue
        indent, key, rest = len(match.group(1)), match.group(2), match.group(3).strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        if pending is not None:
            rows.append((path, " ".join(pending)))
            leaf_indent = indent
        elif rest and not rest.startswith("#"):
            undocumented.append(path)
        else:
            stack.append((indent, key))
        pending = None
    return rows, undocumented


def values_table(chart) -> tuple[str, list[str]]:
    rows, undocumented = documented_values((CHART / "values.yaml").read_text())
    defaults = chart.values
    lines = ["| Key | Default | Description |", "|---|---|---|"]
    for path, description in rows:
        value = defaults
        for part in path.split("."):
            value = value[part]
        shown = json.dumps(value, separators=(", ", ": ")).replace("|", "\\|")
        text = description.replace("|", "\\|")
        lines.append(f"| `{path}` | `{shown}` | {text} |")
    return "\n".join(lines) + "\n", undocumented


def check_readme(chart, update: bool, f: Failures) -> str:
    table, undocumented = values_table(chart)
    for path in undocumented:
        f.add("values.yaml", f"{path} has no `# --` comment")
    text = README.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        f.add(str(README.relative_to(ROOT)), f"needs the {TABLE_START} / {TABLE_END} markers")
        return "MISSING MARKERS"
    head, rest = text.split(TABLE_START, 1)
    current, tail = rest.split(TABLE_END, 1)
    wanted = f"{head}{TABLE_START}\n{table}{TABLE_END}{tail}"
    if wanted == text:
        return "up to date"
    if update:
        README.write_text(wanted)
        return "rewritten"
    f.add(str(README.relative_to(ROOT)), "the values table is out of date: run deploy/check.sh --update")
    return "STALE"


def check_redis_ca(docs: list[dict], values: dict, where: str, f: Failures) -> None:
    """With a private Redis CA, every container reaching Redis trusts it: SSL_CERT_FILE names a
    file mounted from the CA Secret. Without one, nothing sets SSL_CERT_FILE."""
    ca = values["externalRedis"]["tls"]["caSecret"] if not values["redis"]["enabled"] else ""
    for w in workloads(docs):
        spec = w["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if "REDIS_URL" not in env:
                continue
            at = f"{where}: {w['kind']}/{name_of(w)}"
            cert_file = env.get("SSL_CERT_FILE")
            if not ca:
                f.check(cert_file is None, at, "sets SSL_CERT_FILE without a Redis CA")
                continue
            mounts = [m for m in c.get("volumeMounts", []) if cert_file and cert_file.startswith(m["mountPath"] + "/")]
            f.check(len(mounts) == 1, at, f"SSL_CERT_FILE {cert_file} is not in a mounted volume")
            for m in mounts:
                secret = volumes.get(m["name"], {}).get("secret", {})
                f.check(secret.get("secretName") == ca, at, f"{cert_file} does not come from Secret {ca}")
                keys = [i["path"] for i in secret.get("items", [])]
                f.check(cert_file.rsplit("/", 1)[1] in keys, at, f"{cert_file} is not a key of Secret {ca}")


def check_value_set(chart, values_file: Path, binaries: dict[str, Path], f: Failures, notes: set[str]):
    where = values_file.stem
    values = yaml.load(values_file.read_text(), Loader=StrictLoader) or {}
    lint = helm.lint(str(CHART), values, strict=True, namespace=NAMESPACE)
    for message in lint.get("messages", []):
        if message.get("severity", 0) >= 2:
            f.add(f"{where}: lint", f"{message.get('path')}: {message.get('error')}")
    for error in lint.get("errors") or []:
        f.add(f"{where}: lint", error)
    try:
        rendered = render(chart, values)
    except helm.HelmError as e:
        f.add(f"{where}: render", str(e))
        return 0, None
    merged = chart.merge_values(values)
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            f.check(bool(text.strip()), where, "NOTES.txt is empty")
            continue
        for i, doc_text in enumerate(split_documents(text)):
            try:
                doc = yaml.load(doc_text, Loader=StrictLoader)
            except yaml.YAMLError as e:
                f.add(f"{where}: {path}#{i}", f"invalid YAML: {e}")
                continue
            if doc is None:
                continue
            if not isinstance(doc, dict):
                f.add(f"{where}: {path}#{i}", "a document must be a mapping")
                continue
            validate_schema(doc, f"{where}: {path} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}", f, notes)
            docs.append(doc)
    names = [(d.get("kind"), d.get("metadata", {}).get("namespace"), d.get("metadata", {}).get("name")) for d in docs]
    dupes = {n for n in names if names.count(n) > 1}
    f.check(not dupes, where, f"objects rendered twice: {sorted(dupes)}")
    for d in docs:
        ns = d["metadata"].get("namespace")
        cluster_scoped = d["kind"] in ("ClusterRole", "ClusterRoleBinding")
        f.check(cluster_scoped == (ns is None), f"{where}: {d['kind']}/{name_of(d)}",
                "namespaced objects must set metadata.namespace, cluster-scoped ones must not")
        f.check(ns in (None, NAMESPACE) or (d["kind"] in ("Role", "RoleBinding")
                                             and ns in merged["producer"]["namespaces"]),
                f"{where}: {d['kind']}/{name_of(d)}", f"unexpected namespace {ns}")
    is_default = where == "default"
    check_security(docs, where, f)
    check_rbac(docs, merged, where, f, is_default)
    check_producer(docs, merged, where, f, is_default)
    check_fanout(docs, merged, where, f)
    check_references(docs, merged, where, f)
    check_redis_ca(docs, merged, where, f)
    check_flags(docs, where, f, binaries)
    return len(docs), rendered


def check_invalid(chart, f: Failures) -> int:
    refused = 0
    for label, values, expected in INVALID_VALUE_SETS:
        try:
            chart.validate_schema(values)
            render(chart, values)
        except helm.HelmError as e:
            if expected in str(e):
                refused += 1
            else:
                f.add(f"invalid values ({label})", f"refused, but the message lacks {expected!r}: {e}")
            continue
        f.add(f"invalid values ({label})", "rendered, but the chart must refuse it")
    return refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true",
                        help=f"rewrite {RENDERED.relative_to(ROOT)} and the README's values table")
    args = parser.parse_args()
    started = time.monotonic()
    helm.disable_logging()
    f = Failures()
    notes: set[str] = set()
    binaries, flags_note = find_binaries()
    if len(binaries) < 2 and os.environ.get("CI") == "true":
        f.add("flags", "CI must build the binaries before deploy/check.sh")
    chart = helm.Chart.load(str(CHART))
    print(f"chart {chart.name} {chart.version}; Helm SDK {helm.helm_sdk_version()}; Kubernetes schemas "
          f"{', '.join(KUBE_VERSIONS)} (kubernetes-validate {kubernetes_validate.__version__}, strict)")
    summary = []
    default_render = None
    value_files = sorted(CI_VALUES.glob("*.yaml"))
    if not value_files:
        f.add("ci-values", f"no value sets in {CI_VALUES}")
    for values_file in value_files:
        before = len(f.items)
        count, rendered = check_value_set(chart, values_file, binaries, f, notes)
        if values_file.stem == "default":
            default_render = rendered
        status = "ok" if len(f.items) == before else f"{len(f.items) - before} error(s)"
        summary.append(f"  {values_file.stem:<24} {count:>3} documents: lint, schema x{len(KUBE_VERSIONS)}, assertions: {status}")
    refused = check_invalid(chart, f)
    summary.append(f"  {'invalid value sets':<24} {refused}/{len(INVALID_VALUE_SETS)} refused with the expected message")
    if default_render is None:
        f.add("rendered", "no default render (deploy/helm/ci-values/default.yaml missing or failing)")
    else:
        text = committed_text(default_render)
        rel = RENDERED.relative_to(ROOT)
        if args.update:
            RENDERED.parent.mkdir(parents=True, exist_ok=True)
            RENDERED.write_text(text)
            summary.append(f"  {rel}: rewritten")
        elif not RENDERED.exists() or RENDERED.read_text() != text:
            f.add(str(rel), "out of date with the chart: run deploy/check.sh --update and commit it")
            summary.append(f"  {rel}: STALE")
        else:
            summary.append(f"  {rel}: up to date")
    summary.append(f"  {README.relative_to(ROOT)} values table: {check_readme(chart, args.update, f)}")
    summary.append(f"  flags and env vars: {flags_note}")
    print("\n".join(summary))
    for note in sorted(notes):
        print(f"note: {note}")
    took = time.monotonic() - started
    if f.items:
        print(f"\n{len(f.items)} error(s):", file=sys.stderr)
        for item in f.items:
            print(f"  - {item}", file=sys.stderr)
        print(f"deploy checks FAILED ({took:.1f} s)", file=sys.stderr)
        return 1
    print(f"deploy checks passed ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
