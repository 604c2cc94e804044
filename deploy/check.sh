#!/usr/bin/env bash
# Lints and validates the Helm chart offline (no helm binary, no cluster, no network but PyPI):
# deploy/check_manifests.py renders deploy/helm/kubecast with every value set in
# deploy/helm/ci-values/, validates each document against the Kubernetes schemas (strict), runs
# the semantic assertions and checks that deploy/helm/rendered/default.yaml is up to date.
#
#   deploy/check.sh            check (non-zero exit on any error)
#   deploy/check.sh --update   also rewrite deploy/helm/rendered/default.yaml
#
# The tools (pinned in deploy/requirements.txt) live in a venv under target/deploy-venv, made on
# first use and remade when the pins change.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/deploy-venv
requirements=deploy/requirements.txt
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "deploy: creating $venv (pip install -r $requirements)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
exec "$venv/bin/python" deploy/check_manifests.py "$@"
