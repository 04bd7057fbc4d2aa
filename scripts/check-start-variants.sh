#!/usr/bin/env bash
# Part of the test command: the start command's documented variants start.
# Each runs scripts/start.sh as a person would (in a process group of its
# own), waits for the backend's readiness endpoint and the frontend, checks
# what makes the variant what it is, then stops the whole process group and
# checks the ports are free again:
#   production   scripts/start.sh --config app-config.production.yaml (+ the
#                environment a deployment provides), portal only
#   portal only  KEDA_SANDBOX=0 scripts/start.sh (no stand-ins, AWS_ENDPOINT_URL unset)
#   postgres     scripts/start.sh --config app-config.postgres.yaml
# Each also gets, by an absolute --config=<file>, its own SQLite directory or
# PostgreSQL database prefix (dropped afterwards), so nothing of the
# checkout's data/ is touched. The PostgreSQL variants need PostgreSQL on
# 127.0.0.1:5432 (POSTGRES_USER, default postgres, may create databases);
# without it they are skipped with a note. Needs ports 3000 and 7007 free.
#   scripts/check-start-variants.sh [production] [portal-only] [postgres]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
say() { printf '\033[1;34m[start-variants]\033[0m %s\n' "$*" >&2; }

for port in 3000 7007; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say "port $port is in use (a running portal?): stop it and run again"
    exit 1
  fi
done

tmp="$(mktemp -d -t keda-start-variants.XXXXXX)"
pgid=""
created_credentials=""
prefix="keda_start_check_$$_"
PG_USER="${POSTGRES_USER:-postgres}"
pg_reachable() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
pg_query() { # sql: runs it as PG_USER on 127.0.0.1:5432, prints one row per line
  PG_USER="$PG_USER" node -e '
    const { Client } = require("pg");
    const c = new Client({ host: "127.0.0.1", port: 5432, user: process.env.PG_USER,
      password: process.env.POSTGRES_PASSWORD, database: "postgres" });
    c.connect().then(() => c.query(process.argv[1]))
      .then(r => { for (const row of r.rows) console.log(Object.values(row).join("\t")); })
      .finally(() => c.end()).catch(e => { console.error(e.message); process.exit(1); });' "$1"
}
drop_check_databases() {
  pg_reachable || return 0
  local db
  for db in $(pg_query "select datname from pg_database where datname like '${prefix}%'"); do
    pg_query "drop database if exists \"$db\" with (force)" >/dev/null || true
  done
}
stop_group() {
  [[ -n "$pgid" ]] || return 0
  kill -TERM -- "-$pgid" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 -- "-$pgid" 2>/dev/null && ((SECONDS < deadline)); do sleep 1; done
  if kill -0 -- "-$pgid" 2>/dev/null; then
    say "the process group $pgid outlived SIGTERM by 60 s: killing it"
    kill -KILL -- "-$pgid" 2>/dev/null || true
    pgid=""
    return 1
  fi
  pgid=""
}
cleanup() {
  stop_group || true
  drop_check_databases
  [[ -z "$created_credentials" ]] || rm -f "$created_credentials"
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_variant name env... -- start.sh args...: starts it, waits until ready
start_variant() {
  local name="$1"; shift
  local envs=()
  while [[ "$1" != -- ]]; do envs+=("$1"); shift; done
  shift
  local log="$tmp/$name.log"
  local names=("${envs[@]%%=*}")
  say "$name: ${names[*]:+${names[*]} set; }scripts/start.sh $*"
  # setsid: the variant and everything it starts are one process group.
  setsid env -u AWS_ENDPOINT_URL ${envs[@]+"${envs[@]}"} bash scripts/start.sh "$@" >"$log" 2>&1 </dev/null &
  pgid=$!
  local deadline=$((SECONDS + ${START_VARIANT_TIMEOUT:-600})) start=$SECONDS
  until curl -sf -o /dev/null http://localhost:7007/.backstage/health/v1/readiness &&
    curl -sf -o "$tmp/$name.html" http://localhost:3000; do
    if ! kill -0 "$pgid" 2>/dev/null || ((SECONDS > deadline)); then
      tail -n 40 "$log" >&2
      mkdir -p "$REPO_ROOT/artifacts" && cp "$log" "$REPO_ROOT/artifacts/start-variant-$name.log"
      say "$name: the portal did not become ready (end of its log above; all of it in artifacts/start-variant-$name.log)"
      return 1
    fi
    sleep 2
  done
  say "$name: backend ready and frontend answering after $((SECONDS - start)) s"
}
# the frontend is the portal's (app-config.yaml's title), not some other page
expect_frontend() {
  grep -q '<title>KEDA Self-Service Portal</title>' "$tmp/$1.html" || {
    say "$1: the frontend on :3000 did not answer with the portal's page"; return 1; }
}
expect_port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then say "$2: port $1 is still in use"; return 1; fi
}
stop_variant() {
  stop_group || return 1
  local port
  for port in 3000 7007 4566 4567 6443; do expect_port_free "$port" "$1 (after stopping)" || return 1; done
  say "$1: stopped, ports free"
}
sqlite_isolation() { # name: a config giving the variant a SQLite directory of its own
  printf 'backend:\n  database:\n    connection:\n      directory: %s\n' "$tmp/$1-sqlite" >"$tmp/$1.yaml"
}
pg_isolation() { # name: a config giving the variant database names of its own
  printf 'backend:\n  database:\n    prefix: %s\n' "$prefix" >"$tmp/$1.yaml"
}
expect_pg_databases() {
  local dbs
  dbs="$(pg_query "select datname from pg_database where datname like '${prefix}%'")"
  grep -qx "${prefix}catalog" <<<"$dbs" || {
    say "$1: no ${prefix}catalog database in PostgreSQL (found: ${dbs:-none})"; return 1; }
  say "$1: plugin databases in PostgreSQL: $(tr '\n' ' ' <<<"$dbs")"
}
pg_env=(POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 "POSTGRES_USER=$PG_USER" "POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-}")

variant_production() {
  # What a deployment provides beside the file: a GitHub App's credentials
  # (app-config.production.yaml includes github-app-credentials.yaml, which
  # is gitignored) and the environment. Local ports instead of
  # portal.example.com; the real values would not be reachable from here.
  if [[ ! -e github-app-credentials.yaml ]]; then
    created_credentials="$REPO_ROOT/github-app-credentials.yaml"
    openssl genrsa -out "$tmp/app.pem" 2048 2>/dev/null
    {
      echo 'appId: 1'
      echo 'clientId: check-start-variants'
      echo 'clientSecret: check-start-variants'
      echo 'webhookSecret: check-start-variants'
      echo 'privateKey: |'
      sed 's/^/  /' "$tmp/app.pem"
    } >"$created_credentials"
  fi
  # Database names of its own, and the local URLs.
  printf 'backend:\n  baseUrl: http://localhost:7007\n  database:\n    prefix: %s\napp:\n  baseUrl: http://localhost:3000\n' \
    "$prefix" >"$tmp/production.yaml"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=check -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
  start_variant production KEDA_SANDBOX=0 "${pg_env[@]}" \
    AUTH_GITHUB_CLIENT_ID=check AUTH_GITHUB_CLIENT_SECRET=check \
    AWS_PROVISIONER_EXTERNAL_ID_A=check AWS_PROVISIONER_EXTERNAL_ID_B=check \
    "EKS_PROD_CA_DATA=$(base64 -w0 "$tmp/ca.crt")" \
    -- --config app-config.production.yaml "--config=$tmp/production.yaml" &&
    expect_frontend production && expect_pg_databases production &&
    expect_port_free 6443 "production (no stand-ins)"
  local rc=$?
  stop_variant production || rc=1
  drop_check_databases
  [[ -z "$created_credentials" ]] || { rm -f "$created_credentials"; created_credentials=""; }
  return $rc
}

variant_portal_only() {
  sqlite_isolation portal-only
  start_variant portal-only KEDA_SANDBOX=0 -- "--config=$tmp/portal-only.yaml" &&
    expect_frontend portal-only &&
    expect_port_free 4566 "portal-only (no stand-ins)" && expect_port_free 6443 "portal-only (no stand-ins)" &&
    { compgen -G "$tmp/portal-only-sqlite/*.sqlite" >/dev/null ||
      { say "portal-only: no SQLite database in its own directory"; false; }; }
  local rc=$?
  stop_variant portal-only || rc=1
  return $rc
}

variant_postgres() {
  pg_isolation postgres
  start_variant postgres KEDA_SANDBOX=0 "${pg_env[@]}" -- --config app-config.postgres.yaml --config "$tmp/postgres.yaml" &&
    expect_frontend postgres && expect_pg_databases postgres
  local rc=$?
  stop_variant postgres || rc=1
  drop_check_databases
  return $rc
}

variants=("$@")
((${#variants[@]})) || variants=(production portal-only postgres)
failed=()
for variant in "${variants[@]}"; do
  case "$variant" in
    production|postgres)
      if ! pg_reachable; then
        say "$variant: skipped, PostgreSQL is not reachable on 127.0.0.1:5432"
        continue
      fi ;;
    portal-only) ;;
    *) say "unknown variant '$variant': use production, portal-only or postgres"; exit 1 ;;
  esac
  "variant_${variant//-/_}" || failed+=("$variant")
done
if ((${#failed[@]})); then
  say "variants that failed: ${failed[*]}"
  exit 1
fi
say "all variants started and stopped cleanly"
