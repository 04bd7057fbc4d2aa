#!/usr/bin/env bash
# Part of the test command: a clone of the repository with nothing beside it
# installs its dependencies and starts the local stand-ins (AWS, GitHub, the
# Kubernetes API with KEDA's CRDs). Proves that nothing is read from outside
# the repository at install or start. Clones the committed HEAD (uncommitted
# changes are not part of it). Needs ports 4566, 4567 and 6443 free.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '\033[1;34m[clone-check]\033[0m %s\n' "$*" >&2; }

for port in 4566 4567 6443; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say "port $port is in use (a running portal or sandbox?): stop it and run again"
    exit 1
  fi
done

tmp="$(mktemp -d -t keda-clone.XXXXXX)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

git clone --quiet "$REPO_ROOT" "$tmp/portal"
if [[ "$(ls -A "$tmp")" != portal ]]; then
  say "the clone's folder holds more than the clone: $(ls -A "$tmp" | tr '\n' ' ')"
  exit 1
fi
cd "$tmp/portal"
say "clone of $(git rev-parse --short HEAD) in $tmp/portal; installing its dependencies"
start=$SECONDS
( source scripts/bootstrap.sh ) >"$tmp/install.log" 2>&1 || {
  tail -n 30 "$tmp/install.log" >&2; say "bootstrap failed in the clone"; exit 1; }
say "dependencies installed in $((SECONDS - start)) s"
source scripts/bootstrap.sh 2>/dev/null

node --require @backstage/cli/config/nodeTransform.cjs packages/sandbox/src/cli.ts start \
  --data-dir "$tmp/portal/data/sandbox" >"$tmp/sandbox.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 180))
until grep -q '^sandbox ready' "$tmp/sandbox.log"; do
  if ! kill -0 "$pid" 2>/dev/null || ((SECONDS > deadline)); then
    tail -n 30 "$tmp/sandbox.log" >&2
    say "the sandbox did not start from the clone"
    exit 1
  fi
  sleep 1
done

# The Kubernetes stand-in serves KEDA's CRDs from the clone's own copy, over
# TLS with the certificate the sandbox keeps in its data dir.
crds="$(curl -sf --cacert "$tmp/portal/data/sandbox/kubernetes.crt" \
  -H 'Authorization: Bearer sandbox-admin-token' https://127.0.0.1:6443/apis/keda.sh/v1alpha1)"
for resource in scaledobjects triggerauthentications clustertriggerauthentications; do
  grep -q "\"name\":\"$resource\"" <<<"$crds" || { say "KEDA CRD $resource not served: $crds"; exit 1; }
done
curl -sf -o /dev/null http://127.0.0.1:4566 || curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:4566 | grep -qv '^000$'
curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:4567 | grep -qv '^000$'
say "the sandbox started from a clone with nothing beside it ($((SECONDS - start)) s in all)"
