#!/usr/bin/env bash
# Sourced by scripts/start.sh and scripts/test.sh. Makes sure of, in order:
#  1. Node 22 (>= 22.23, < 23): the system one if it fits, otherwise the npm
#     registry's node-linux-<arch> package in .toolchain/ (gitignored);
#  2. the committed Yarn release (.yarn/releases, via .yarnrc.yml yarnPath);
#  3. dependencies installed from yarn.lock, skipped when nothing changed.
# Why 22.23 exactly: see docs/toolchain.md (22.21 crashed in require(esm),
# 24.x aborted inside better-sqlite3).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION="22.23.3"
TOOLCHAIN="$REPO_ROOT/.toolchain"

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*" >&2; }

node_fits() {
  local v
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  local major minor
  major="${v%%.*}"; minor="$(echo "$v" | cut -d. -f2)"
  [[ "$major" == 22 && "$minor" -ge 23 ]]
}

ensure_node() {
  if command -v node >/dev/null 2>&1 && node_fits node; then
    NODE_DIR="$(dirname "$(dirname "$(command -v node)")")"
  else
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64|arm64) arch=arm64 ;;
      *) echo "unsupported CPU architecture $(uname -m)" >&2; exit 1 ;;
    esac
    NODE_DIR="$TOOLCHAIN/node_modules/node-linux-$arch"
    if ! node_fits "$NODE_DIR/bin/node"; then
      log "installing Node $NODE_VERSION (node-linux-$arch from the npm registry) into .toolchain/"
      mkdir -p "$TOOLCHAIN"
      npm install --prefix "$TOOLCHAIN" --no-save --no-audit --no-fund --loglevel=error \
        "node-linux-$arch@$NODE_VERSION" >&2
    fi
    export PATH="$NODE_DIR/bin:$PATH"
  fi
  # node-gyp (better-sqlite3) builds against these headers instead of downloading them.
  export npm_config_nodedir="$NODE_DIR"
  log "node $(node -v) at $(command -v node)"
}

yarn() { node "$REPO_ROOT/$(sed -n 's/^yarnPath: //p' "$REPO_ROOT/.yarnrc.yml")" "$@"; }

ensure_dependencies() {
  local stamp="$REPO_ROOT/node_modules/.bootstrap-stamp"
  local want
  want="$( (node -v; cat "$REPO_ROOT/yarn.lock" "$REPO_ROOT/.yarnrc.yml"; \
            find "$REPO_ROOT/package.json" "$REPO_ROOT/packages" "$REPO_ROOT/plugins" \
              -maxdepth 2 -name package.json -not -path '*/node_modules/*' | sort | xargs cat) \
          | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "dependencies up to date (yarn.lock unchanged)"
    return
  fi
  log "installing dependencies from yarn.lock"
  (cd "$REPO_ROOT" && yarn install --immutable) >&2
  echo "$want" >"$stamp"
}

cd "$REPO_ROOT"
ensure_node
ensure_dependencies
export PATH="$REPO_ROOT/node_modules/.bin:$PATH"
