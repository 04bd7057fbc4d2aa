#!/usr/bin/env bash
# The start command (README): prepares the toolchain and dependencies, starts
# the local stand-ins for AWS, GitHub and EKS (packages/sandbox) and the
# portal (frontend :3000, backend :7007), and prints the URL to open.
#   KEDA_SANDBOX=0 scripts/start.sh   # portal only, e.g. against real AWS/GitHub/EKS
#   scripts/start.sh --config app-config.production.yaml   # extra args go to `backstage-cli repo start`
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

mkdir -p "$REPO_ROOT/data"
children=()
cleanup() { for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [[ "${KEDA_SANDBOX:-1}" != 0 && -f packages/sandbox/src/cli.ts ]]; then
  log "starting the local stand-ins (AWS :4566, GitHub :4567, Kubernetes :6443); state in data/sandbox"
  node --require @backstage/cli/config/nodeTransform.cjs packages/sandbox/src/cli.ts start \
    --data-dir "$REPO_ROOT/data/sandbox" &
  sandbox_pid=$!
  children+=($sandbox_pid)
  # The standard AWS SDK setting: every AWS client of the portal talks to the
  # AWS stand-in (the same config talks to real AWS without it).
  export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
  for port in 4566 4567 6443; do
    until curl -s -o /dev/null "http://127.0.0.1:$port"; do
      kill -0 "$sandbox_pid" 2>/dev/null || { log "the sandbox failed to start (see above)"; exit 1; }
      sleep 1
    done
  done
fi

(
  until curl -sf -o /dev/null http://localhost:3000 && curl -sf -o /dev/null http://localhost:7007/.backstage/health/v1/readiness; do
    sleep 2
  done
  printf '\n\033[1;32m  The portal is ready: open http://localhost:3000\033[0m  (backend http://localhost:7007)\n\n'
) &
children+=($!)

yarn start "$@"
