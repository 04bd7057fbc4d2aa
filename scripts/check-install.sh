#!/usr/bin/env bash
# Part of the test command: the six plugin packages install into a fresh
# Backstage app the way their READMEs say, and work there against the local
# stand-ins. In a temporary folder (removed afterwards):
#  1. builds the packages and packs them (`yarn pack`: prepack rewrites
#     workspace:^ and publishConfig), and checks each tarball holds what its
#     package.json promises (dist/, migrations/, the config schema);
#  2. creates an app with @backstage/create-app (CREATE_APP_VERSION, the
#     release of backstage.json), moves its @backstage/* dependencies to this
#     repository's release (the ranges our packages declare; our yarn.lock as
#     the seed) and points the six packages at the tarballs (root resolutions);
#  3. follows the README "Install" sections of keda-backend, the scaffolder
#     module, the permission policy module and keda (scripts/check-install.mjs
#     readme: their `yarn --cwd … add` lines and packages/backend/src/index.ts
#     blocks), installs once, builds the app;
#  4. starts the stand-ins and the app's backend (which serves the built app)
#     with an app-config.local.yaml for the stand-ins, then checks
#     /api/scaffolder/v2/actions lists the keda actions, /api/keda/status
#     answers 200, and the entity page shows the card in Chromium.
# Needs ports 4566, 4567, 6443 and 7007 free, the npm registry, Chromium
# (CHROMIUM_PATH, default /usr/bin/chromium). KEEP_INSTALL_APP=1 keeps the
# temporary folder. Yarn's global cache (the repository's install fills it)
# is shared, so a warm run downloads nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
say() { printf '\033[1;34m[install-check]\033[0m %s\n' "$*" >&2; }
CREATE_APP_VERSION=0.9.2 # writes backstage.json 1.55.0; checked below
BACKEND=http://localhost:7007

for port in 4566 4567 6443 7007; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say "port $port is in use (a running portal or sandbox?): stop it and run again"
    exit 1
  fi
done

tmp="$(mktemp -d -t keda-install.XXXXXX)"
app="$tmp/app"
pids=()
stop_all() {
  local pid deadline
  for pid in ${pids[@]+"${pids[@]}"}; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in ${pids[@]+"${pids[@]}"}; do
    deadline=$((SECONDS + 30))
    while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  pids=()
}
# `yarn pack` runs prepack, which rewrites a package's package.json until
# postpack puts it back; a pack that fails or is interrupted in between
# would leave it rewritten, so the originals are kept and put back here.
restore_manifests() {
  local saved
  for saved in "$tmp"/manifests/*.json; do
    [[ -e "$saved" ]] || continue
    cp "$saved" "$REPO_ROOT/plugins/$(basename "$saved" .json)/package.json"
  done
}
cleanup() {
  stop_all
  restore_manifests
  if [[ "${KEEP_INSTALL_APP:-0}" == 1 ]]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
started=$SECONDS
step() { say "$1 ($((SECONDS - started)) s)"; }
# run_logged name command...: output to $tmp/name.log, its end shown on failure
run_logged() {
  local name="$1"; shift
  if ! "$@" >"$tmp/$name.log" 2>&1; then
    tail -n 40 "$tmp/$name.log" >&2
    mkdir -p "$REPO_ROOT/artifacts" && cp "$tmp/$name.log" "$REPO_ROOT/artifacts/install-check-$name.log"
    say "$name failed (end of its log above; all of it in artifacts/install-check-$name.log)"
    return 1
  fi
}
# `yarn` as a command (create-app checks it is on PATH; scripts call it); in
# the app it runs the Yarn release the app ships (.yarnrc.yml yarnPath).
mkdir -p "$tmp/bin"
printf '#!/bin/sh\nexec node "%s" "$@"\n' "$REPO_ROOT/$(sed -n 's/^yarnPath: //p' .yarnrc.yml)" >"$tmp/bin/yarn"
chmod +x "$tmp/bin/yarn"
export PATH="$tmp/bin:$PATH"
packages=(keda-common keda-node keda-backend scaffolder-backend-module-keda permission-backend-module-keda-policy keda)

# 1. build and pack
step "building and packing ${#packages[@]} packages"
# the type declarations the build bundles come from dist-types (the type
# check itself is the test command's own check)
yarn tsc >"$tmp/tsc.log" 2>&1 || say "yarn tsc reported errors (see the type check); packing what it emitted"
mkdir -p "$tmp/tarballs" "$tmp/manifests"
for package in "${packages[@]}"; do
  cp "plugins/$package/package.json" "$tmp/manifests/$package.json"
  run_logged "build-$package" bash -c "cd plugins/$package && backstage-cli package build"
  run_logged "pack-$package" bash -c "cd plugins/$package && yarn pack --out '$tmp/tarballs/$package.tgz'"
done
node scripts/check-install.mjs check-pack "$tmp/tarballs"

# 2. a fresh app of this release
step "creating an app with @backstage/create-app@$CREATE_APP_VERSION"
# The app's lockfile is written by its first install (CI would make it immutable).
export YARN_ENABLE_IMMUTABLE_INSTALLS=false
# (its yarn.lock seed comes from GitHub; without it the app still installs: ours seeds it below)
(cd "$tmp" && BACKSTAGE_APP_NAME=keda-install-check run_logged create-app \
  npx --yes "@backstage/create-app@$CREATE_APP_VERSION" --path app --skip-install)
release="$(node -p 'require(process.argv[1]).version' "$app/backstage.json")"
ours="$(node -p 'require("./backstage.json").version')"
if [[ "$release" != "$ours" ]]; then
  say "create-app $CREATE_APP_VERSION writes backstage.json $release, this repository is on $ours: update CREATE_APP_VERSION"
  exit 1
fi
node scripts/check-install.mjs prepare "$app" "$tmp/tarballs"

# 3. the READMEs' install steps, one install, the app's build
step "following the README Install sections"
run_logged readme node scripts/check-install.mjs readme "$app" "$tmp/tarballs"
grep '\[install-check\]' "$tmp/readme.log" >&2 || true
step "installing the app's dependencies"
(cd "$app" && run_logged install yarn install)
step "building the app (frontend)"
node scripts/check-install.mjs config "$app" "$tmp/sandbox"
(cd "$app" && run_logged app-build yarn workspace app build)

# 4. the stand-ins and the app's backend
step "starting the stand-ins"
setsid node --require @backstage/cli/config/nodeTransform.cjs packages/sandbox/src/cli.ts start \
  --data-dir "$tmp/sandbox" --config app-config.yaml >"$tmp/sandbox.log" 2>&1 </dev/null &
pids+=($!)
deadline=$((SECONDS + 180))
until grep -q '^sandbox ready' "$tmp/sandbox.log"; do
  if ! kill -0 "${pids[0]}" 2>/dev/null || ((SECONDS > deadline)); then
    tail -n 30 "$tmp/sandbox.log" >&2; say "the stand-ins did not start"; exit 1
  fi
  sleep 1
done
step "starting the app's backend (it serves the built app)"
(cd "$app/packages/backend" && AWS_ENDPOINT_URL=http://127.0.0.1:4566 \
  exec setsid yarn start >"$tmp/backend.log" 2>&1 </dev/null) &
pids+=($!)
deadline=$((SECONDS + ${INSTALL_CHECK_START_TIMEOUT:-300}))
until curl -sf -o /dev/null "$BACKEND/.backstage/health/v1/readiness"; do
  # (in watch mode the start command outlives a backend that failed to start)
  if ! kill -0 "${pids[1]}" 2>/dev/null || ((SECONDS > deadline)) ||
    grep -qE 'Cannot find (package|module)|Backend failed to start|ERR_MODULE_NOT_FOUND' "$tmp/backend.log"; then
    tail -n 40 "$tmp/backend.log" >&2
    mkdir -p "$REPO_ROOT/artifacts" && cp "$tmp/backend.log" "$REPO_ROOT/artifacts/install-check-backend.log"
    say "the app's backend did not become ready (end of its log above)"; exit 1
  fi
  sleep 2
done
step "checking the actions, the status route and the card"
mkdir -p "$REPO_ROOT/artifacts"
if ! INSTALL_SCREENSHOT="$REPO_ROOT/artifacts/install-check-card.png" \
  node scripts/check-install.mjs verify "$app" "$BACKEND"; then
  cp "$tmp/backend.log" "$REPO_ROOT/artifacts/install-check-backend.log"
  say "backend log in artifacts/install-check-backend.log"
  exit 1
fi
say "ok: the packed plugins install into a create-app $CREATE_APP_VERSION app (Backstage $ours) by their READMEs and work there ($((SECONDS - started)) s)"
