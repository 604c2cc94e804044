#!/usr/bin/env bash
# Checks deploy/ offline (no helm binary, no Docker engine, no cluster, no network but PyPI).
# The Helm chart:
# deploy/check_manifests.py renders deploy/helm/kubecast with every value set in
# deploy/helm/ci-values/, validates each document against the Kubernetes schemas (strict), runs
# the semantic assertions and checks that deploy/helm/rendered/default.yaml is up to date.
# The Docker side: hadolint on the Dockerfile, deploy/check_compose.py on the compose file, and
# `nginx -t` on the nginx template rendered as deploy/local/run.sh renders it.
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
"$venv/bin/python" deploy/check_manifests.py "$@"
"$venv/bin/hadolint" deploy/docker/Dockerfile
echo "hadolint: deploy/docker/Dockerfile is clean"
"$venv/bin/python" -m unittest discover -s deploy -p 'test_*.py'
"$venv/bin/python" deploy/check_compose.py
nginx_test() {
  local dir nginx
  nginx="$(command -v nginx || echo /usr/sbin/nginx)"
  [ -x "$nginx" ] || { echo "nginx: not installed, its config is not checked" >&2; return 0; }
  dir="$(mktemp -d)"
  sed -e 's|${KUBECAST_UPSTREAMS}|server 127.0.0.1:1; server 127.0.0.1:2;|' -e 's|${KUBECAST_LISTEN}|127.0.0.1:1|' \
    deploy/nginx/kubecast.conf.template >"$dir/kubecast.conf"
  printf 'pid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp { include %s/kubecast.conf; }\n' "$dir" "$dir" >"$dir/nginx.conf"
  local status=0
  "$nginx" -t -q -p "$dir" -c "$dir/nginx.conf" || status=$?
  rm -rf "$dir"
  [ "$status" -eq 0 ] || { echo "nginx: deploy/nginx/kubecast.conf.template is invalid" >&2; return 1; }
  echo "nginx: deploy/nginx/kubecast.conf.template is valid (nginx -t)"
}
nginx_test
