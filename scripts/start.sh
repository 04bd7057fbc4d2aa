#!/usr/bin/env bash
# The start command (README): prepares the toolchain and dependencies, starts
# the local stand-ins for AWS, GitHub and EKS (packages/sandbox) and the
# portal (frontend :3000, backend :7007), and prints the URL to open.
#   KEDA_SANDBOX=0 scripts/start.sh   # portal only, e.g. against real AWS/GitHub/EKS
#   scripts/start.sh --config app-config.postgres.yaml   # PostgreSQL (POSTGRES_* set); other args go to `backstage-cli repo start`
#   KEDA_SANDBOX=0 scripts/start.sh --config app-config.production.yaml   # production config (README: what it needs)
# --config files (relative paths from the repository root, `--config x` or
# `--config=x`) are loaded on top of app-config.yaml, like Backstage's own
# app-config.local.yaml when none is given.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# `backstage-cli repo start` resolves relative --config paths per package
# (packages/backend, packages/app): make them absolute from the repository
# root, and check them before anything starts.
configs=()
passthrough=()
add_config() {
  local file="$1"
  [[ -n "$file" ]] || { echo "--config needs a file name, e.g. --config app-config.production.yaml" >&2; exit 1; }
  [[ "$file" == /* ]] || file="$REPO_ROOT/$file"
  [[ -f "$file" ]] || { echo "--config $1: no such file ($file); relative paths are taken from the repository root" >&2; exit 1; }
  configs+=("$file")
}
while (($#)); do
  case "$1" in
    --config) (($# >= 2)) || add_config ""; add_config "$2"; shift 2 ;;
    --config=*) add_config "${1#--config=}"; shift ;;
    *) passthrough+=("$1"); shift ;;
  esac
done
config_args=()
if ((${#configs[@]})); then
  [[ " ${configs[*]} " == *" $REPO_ROOT/app-config.yaml "* ]] || configs=("$REPO_ROOT/app-config.yaml" "${configs[@]}")
  for file in "${configs[@]}"; do config_args+=(--config "$file"); done
fi
source "$REPO_ROOT/scripts/bootstrap.sh"

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
  # The Kubernetes API speaks TLS like an API server, with the certificate the
  # sandbox keeps in data/sandbox (verified here, as kubectl and the portal do).
  until curl -s -o /dev/null http://127.0.0.1:4566 && curl -s -o /dev/null http://127.0.0.1:4567 &&
    [[ -f "$REPO_ROOT/data/sandbox/kubeconfig" ]] &&
    curl -s -o /dev/null --cacert "$REPO_ROOT/data/sandbox/kubernetes.crt" https://127.0.0.1:6443/version; do
    kill -0 "$sandbox_pid" 2>/dev/null || { log "the sandbox failed to start (see above)"; exit 1; }
    sleep 1
  done
  sandbox_help="$(cat <<'HELP'
  Local stand-ins (from the repository root):
    kubectl:  export KUBECONFIG=data/sandbox/kubeconfig; kubectl get scaledobjects -A
    awscli:   export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_CONFIG_FILE=data/sandbox/aws-config AWS_PROFILE=sandbox-222222222222
              aws iam list-roles; aws sqs list-queues --endpoint-url "$AWS_ENDPOINT_URL"
              (profiles: sandbox-111111111111 cluster account, sandbox-222222222222 queue account;
               awscli v1 needs --endpoint-url for sqs)
HELP
)"
fi

(
  until curl -sf -o /dev/null http://localhost:3000 && curl -sf -o /dev/null http://localhost:7007/.backstage/health/v1/readiness; do
    sleep 2
  done
  printf '\n\033[1;32m  The portal is ready: open http://localhost:3000\033[0m  (backend http://localhost:7007)\n%s\n\n' "${sandbox_help:-}"
) &
children+=($!)

yarn start ${config_args[@]+"${config_args[@]}"} ${passthrough[@]+"${passthrough[@]}"}
