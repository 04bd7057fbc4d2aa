#!/usr/bin/env bash
# The test command (README): same bootstrap as the start command, then type
# check, lint, every unit and integration test (Jest, SQLite always,
# PostgreSQL when reachable), and the browser suite (Playwright + Chromium).
# Ends with one line `N passed, N failed`: Jest tests + browser tests, plus
# one for each whole-run check (self-contained tree, type check, lint, format,
# API reports, OpenAPI, the moved-clock run, the fresh-clone start, the start
# command's variants, the install into a fresh app, the benchmark's smoke run).
# Exits non-zero on any failure.
#   SKIP_BROWSER=1 scripts/test.sh   # without the browser suite
#   SKIP_CLONE_CHECK=1 scripts/test.sh   # without the fresh-clone start check
#   SKIP_START_VARIANTS=1 scripts/test.sh   # without the start variants check
#   SKIP_INSTALL_TEST=1 scripts/test.sh   # without the install into a fresh app (scripts/check-install.sh)
#   SKIP_BENCH=1 scripts/test.sh   # without the benchmark's smoke run
#   KEDA_SOAK=1 scripts/test.sh   # the reliability suites' long runs (KEDA_SEED=n replays a seed)
set -euo pipefail
# (not `source … || exit`: that would switch errexit off inside bootstrap)
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
set +e

export CI=true BACKSTAGE_TEST_DISABLE_DOCKER=1
if node -e "require('net').connect(5432,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"; then
  export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="${BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING:-postgresql://postgres@127.0.0.1:5432}"
  log "PostgreSQL reachable: database tests run on SQLite and PostgreSQL"
else
  log "PostgreSQL not reachable on 127.0.0.1:5432: database tests run on SQLite only"
fi

# Independent clients the tests drive when present: kubectl (the Kubernetes
# stand-in's tests) and Chromium (the browser suite), from Debian's packages.
missing=()
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
[[ "${SKIP_BROWSER:-0}" == 1 ]] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [[ ${#missing[@]} -gt 0 && "$(id -u)" == 0 ]]; then
  apt-get update -qq >&2 || true
  for package in "${missing[@]}"; do
    log "installing $package (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2 ||
      log "could not install $package: the tests that need it are skipped or fail"
  done
fi

ARTIFACTS="$REPO_ROOT/artifacts"
mkdir -p "$ARTIFACTS"
passed=0; failed=0
check() { # name, command...
  local name="$1"; shift
  log "== $name"
  if "$@"; then passed=$((passed + 1)); log "$name: ok"; else failed=$((failed + 1)); log "$name: FAILED"; fi
}
count_json() { # file, passed-key, failed-key: adds a runner's own counts
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const get = k => k.split(".").reduce((o, p) => o?.[p], r) ?? 0;
    console.log(get(process.argv[2]), get(process.argv[3]));' "$@"
}

check "self-contained: no tracked file points outside the repository" bash scripts/check-self-contained.sh
check "type check (tsc)" yarn tsc
check "lint (backstage-cli repo lint)" yarn backstage-cli repo lint
check "format (prettier --check .; yarn prettier --write . fixes it)" yarn prettier --check .
check "API reports (report*.api.md match the packages' public API; yarn build:api-reports updates them)" yarn build:api-reports:check
check "OpenAPI (the generated router and client types match keda-backend's openapi.yaml; yarn openapi:generate and yarn openapi:clients update them)" yarn openapi:check

log "== unit and integration tests (jest)"
rm -f "$ARTIFACTS/jest.json"
# the reliability suites (*.reliability.test.ts) leave their summary lines here
rm -rf "$ARTIFACTS/reliability"
yarn backstage-cli repo test --json --outputFile="$ARTIFACTS/jest.json"
jest_rc=$?
if [[ -f "$ARTIFACTS/jest.json" ]]; then
  read -r p f < <(count_json "$ARTIFACTS/jest.json" numPassedTests numFailedTests)
  passed=$((passed + p)); failed=$((failed + f))
  # a suite that fails to run (syntax error, crash) has no failing test of its own
  read -r _ sf < <(count_json "$ARTIFACTS/jest.json" numPassedTestSuites numRuntimeErrorTestSuites)
  failed=$((failed + sf))
  [[ $jest_rc -ne 0 && $f -eq 0 && $sf -eq 0 ]] && failed=$((failed + 1))
else
  failed=$((failed + 1))
fi

# Green on any date: the tests of the stand-ins and of the backend packages
# that talk to them (tokens, credentials, expiry) again with the system clock
# a year ahead (libfaketime moves every clock the Node processes read).
if command -v faketime >/dev/null 2>&1; then
  moved_clock_tests() {
    local dir rc=0
    for dir in packages/sandbox plugins/keda-node plugins/keda-backend plugins/scaffolder-backend-module-keda; do
      # (the reliability suites ran once above; their counts are not about the clock)
      (cd "$dir" && faketime -f +365d backstage-cli package test --testPathIgnorePatterns '\.reliability\.test\.ts$') || rc=1
    done
    return $rc
  }
  check "stand-in and backend tests with the clock a year ahead (faketime +365d)" moved_clock_tests
else
  log "faketime is not installed (Debian package faketime): the moved-clock run is skipped"
fi

# Nothing beside the checkout is needed: a fresh clone installs and starts
# the stand-ins on its own.
[[ "${SKIP_CLONE_CHECK:-0}" == 1 ]] ||
  check "a clone with nothing beside it starts the stand-ins" bash scripts/check-clone.sh

# The README's start variants (production config, portal only, PostgreSQL)
# start the portal, answer, and stop cleanly.
[[ "${SKIP_START_VARIANTS:-0}" == 1 ]] ||
  check "the start command's variants start and stop (production, portal only, PostgreSQL)" \
    bash scripts/check-start-variants.sh

# The packed plugins install into a fresh create-app app by their READMEs and
# work there: the keda actions, the status route, the card (about 5 minutes).
[[ "${SKIP_INSTALL_TEST:-0}" == 1 ]] ||
  check "install into a fresh app (scripts/check-install.sh)" bash scripts/check-install.sh

# The benchmark's smoke run (100 objects, 2 s runs): every route answers,
# the stand-ins count, the template converges. Targets are not judged here.
[[ "${SKIP_BENCH:-0}" == 1 ]] ||
  check "the benchmark runs (yarn bench --quick)" \
    yarn bench --quick --out "$ARTIFACTS/bench-quick.md"

if [[ "${SKIP_BROWSER:-0}" != 1 ]]; then
  log "== browser suite (playwright, Chromium)"
  rm -f "$ARTIFACTS/playwright.json"
  PLAYWRIGHT_JSON_OUTPUT_NAME="$ARTIFACTS/playwright.json" yarn playwright test --reporter=list,json
  pw_rc=$?
  if [[ -f "$ARTIFACTS/playwright.json" ]]; then
    read -r p f < <(count_json "$ARTIFACTS/playwright.json" stats.expected stats.unexpected)
    passed=$((passed + p)); failed=$((failed + f))
    [[ $pw_rc -ne 0 && $f -eq 0 ]] && failed=$((failed + 1))
  else
    failed=$((failed + 1))
  fi
fi

# The reliability suites' counts (short variants; KEDA_SOAK=1 for the long runs).
if compgen -G "$ARTIFACTS/reliability/*.txt" >/dev/null; then
  echo "reliability suites (KEDA_SOAK=1 for the long runs):"
  for summary in "$ARTIFACTS"/reliability/*.txt; do printf '  %s\n' "$(cat "$summary")"; done
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
