#!/usr/bin/env bash
# HTTP load benchmark: wrk against gunicorn on loopback, for the public credential page,
# POST /credentials/verify and POST /credentials/issue (VC-API, OAuth 2.0 bearer token), with
# 1, 2 and 4 gunicorn workers, on SQLite and on PostgreSQL.  Prints a table; measures, never
# asserts (the figures go into docs/performance.md, "HTTP load").
#
#   bench/http_load.sh [--duration SECONDS] [--workers "1 2 4"] [--db "sqlite postgresql"]
#                      [--postgres-url URL] [--json FILE]
#
# Each database gets a fresh temporary instance: `credfolio db upgrade`, an issuer key, an OAuth
# client and a few credentials issued through the API.  The PostgreSQL database
# (BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/credfolio_bench) is
# created by this script and dropped at the end; an existing database of that name is refused.
# Rate limits are switched off (CREDFOLIO_RATELIMIT_ENABLED=false): they would answer 429.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-10}
WORKERS=${BENCH_WORKERS:-"1 2 4"}
DATABASES=${BENCH_DATABASES:-"sqlite postgresql"}
POSTGRES_URL=${BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/credfolio_bench}
JSON_OUT=""

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --db) DATABASES=$2; shift 2 ;;
    --postgres-url) POSTGRES_URL=$2; shift 2 ;;
    --json) JSON_OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

# -- tools -------------------------------------------------------------------------------------

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing wrk (Debian package) ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  else
    echo "wrk is needed: install it with 'sudo apt-get install wrk' (Debian/Ubuntu)." >&2
    exit 1
  fi
fi
command -v curl >/dev/null || { echo "curl is needed (apt-get install curl)." >&2; exit 1; }
[ -x .venv/bin/gunicorn ] || scripts/bootstrap
PY=$ROOT/.venv/bin/python
CREDFOLIO=$ROOT/.venv/bin/credfolio
GUNICORN=$ROOT/.venv/bin/gunicorn

WORK=$(mktemp -d "${TMPDIR:-/tmp}/credfolio-http-load.XXXXXX")
RESULTS=$WORK/results.tsv
: > "$RESULTS"
SERVER_PID=""
CREATED_DB=""

pg() {  # pg create|drop URL: the benchmark's own database, through the server's "postgres" db
  "$PY" - "$@" <<'EOF'
import sys

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

action, url = sys.argv[1], make_url(sys.argv[2])
name = url.database
admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
with psycopg.connect(admin, autocommit=True) as conn:
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if action == "create":
        if exists:
            sys.exit(f"the database {name!r} exists already: drop it or choose another name "
                     "(--postgres-url / BENCH_POSTGRES_URL); this benchmark only uses its own")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    elif exists:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
EOF
}

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

cleanup() {
  stop_server
  if [ -n "$CREATED_DB" ]; then pg drop "$CREATED_DB" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# -- one database: a fresh instance --------------------------------------------------------------

setup_instance() {  # setup_instance NAME DATABASE_URL
  local name=$1 url=$2
  INSTANCE=$WORK/$name
  mkdir -p "$INSTANCE"
  PORT=$(free_port)
  BASE=http://127.0.0.1:$PORT
  export CREDFOLIO_INSTANCE_PATH=$INSTANCE/instance
  export CREDFOLIO_DATABASE_URL=$url
  export CREDFOLIO_PUBLIC_URL=$BASE
  export CREDFOLIO_KEY_ENCRYPTION_SECRET
  CREDFOLIO_KEY_ENCRYPTION_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
  export CREDFOLIO_SECRET_KEY
  CREDFOLIO_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
  export CREDFOLIO_RATELIMIT_ENABLED=false
  "$CREDFOLIO" db upgrade >"$INSTANCE/setup.log" 2>&1
  "$CREDFOLIO" keys create >>"$INSTANCE/setup.log" 2>&1
  "$CREDFOLIO" clients create --name "http load benchmark" --json >"$INSTANCE/client.json"
  CLIENT_ID=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <"$INSTANCE/client.json")
  CLIENT_SECRET=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <"$INSTANCE/client.json")
  # The body of an issue request: the basic Open Badges 3.0 example, without issuer and proof.
  "$PY" - "$INSTANCE/issue.json" <<'EOF'
import json
import sys

with open("tests/assets/ob3/examples/basicOpenBadgeCredential.json", encoding="utf-8") as f:
    document = json.load(f)
for name in ("proof", "issuer", "id", "credentialStatus"):
    document.pop(name, None)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump({"credential": document}, f)
EOF
  ISSUED_ONCE=""
}

start_server() {  # start_server WORKERS
  # The production settings (portfolio/operations/gunicorn_config.py: no per-user control socket, the app's
  # own request log), as docs/deploy.md's plain gunicorn command.
  "$GUNICORN" -c python:portfolio.operations.gunicorn_config 'wsgi:create_app()' --workers "$1" \
    --bind "127.0.0.1:$PORT" --error-logfile "$INSTANCE/gunicorn-$1.log" \
    >>"$INSTANCE/gunicorn-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    if curl -fsS -o /dev/null "$BASE/.well-known/did.json" 2>/dev/null; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "gunicorn did not start; its log:" >&2
  cat "$INSTANCE/gunicorn-$1.log" >&2
  exit 1
}

get_token() {
  curl -fsS -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d scope=issue \
    "$BASE/oauth/token" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

issue_some() {  # a few credentials through the API: one for the page, one to verify
  local token=$1
  for i in 1 2 3 4 5; do
    curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      --data-binary "@$INSTANCE/issue.json" "$BASE/credentials/issue" >"$INSTANCE/issued-$i.json"
  done
  "$PY" - "$INSTANCE" <<'EOF'
import json
import sys
from pathlib import Path

instance = Path(sys.argv[1])
credential = json.loads((instance / "issued-1.json").read_text())["verifiableCredential"]
(instance / "verify.json").write_text(json.dumps({"verifiableCredential": credential}))
(instance / "page.txt").write_text(credential["id"].rsplit("/c/", 1)[1])
EOF
  PAGE_ID=$(cat "$INSTANCE/page.txt")
  # The signed credential must verify (status list check included) before we time it.
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    --data-binary "@$INSTANCE/verify.json" "$BASE/credentials/verify" \
    || { echo "the issued credential does not verify" >&2; exit 1; }
}

run_wrk() {  # run_wrk ENDPOINT DB WORKERS URL [METHOD BODY_FILE TOKEN]
  local endpoint=$1 db=$2 workers=$3 url=$4
  local connections=$((2 * workers))
  local threads=$((connections < 2 ? connections : 2))
  local log=$INSTANCE/wrk-$(echo "$endpoint" | tr -c 'a-z0-9\n' '_')-$workers.log
  BENCH_METHOD=${5:-GET} BENCH_BODY_FILE=${6:-} BENCH_TOKEN=${7:-} \
    wrk --threads "$threads" --connections "$connections" --duration "${DURATION}s" \
    --timeout 30s --latency --script "$ROOT/bench/wrk/request.lua" "$url" >"$log" 2>&1 \
    || { echo "wrk failed:" >&2; cat "$log" >&2; exit 1; }
  local line
  line=$(grep '^BENCH_RESULT ' "$log" | tail -1)
  printf '%s\t%s\t%s\t%s\n' "$endpoint" "$db" "$workers" "${line#BENCH_RESULT }" >>"$RESULTS"
  printf '  %-28s %-10s workers=%s  %s\n' "$endpoint" "$db" "$workers" "${line#BENCH_RESULT }"
}

bench_database() {  # bench_database NAME URL
  local db=$1 url=$2
  echo "== $db: fresh instance ($(echo "$url" | sed 's#//[^@/]*@#//#'))"
  setup_instance "$db" "$url"
  for workers in $WORKERS; do
    start_server "$workers"
    local token
    token=$(get_token)
    if [ -z "$ISSUED_ONCE" ]; then issue_some "$token"; ISSUED_ONCE=1; fi
    # Warm up every worker (contexts, keys, templates) before timing.
    for _ in $(seq $((4 * workers))); do
      curl -fsS -o /dev/null "$BASE/c/$PAGE_ID"
      curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        --data-binary "@$INSTANCE/verify.json" "$BASE/credentials/verify"
    done
    run_wrk "GET /c/<id>" "$db" "$workers" "$BASE/c/$PAGE_ID"
    run_wrk "POST /credentials/verify" "$db" "$workers" "$BASE/credentials/verify" \
      POST "$INSTANCE/verify.json"
    run_wrk "POST /credentials/issue" "$db" "$workers" "$BASE/credentials/issue" \
      POST "$INSTANCE/issue.json" "$token"
    stop_server
  done
}

# -- run -----------------------------------------------------------------------------------------

echo "Credfolio HTTP load: wrk, ${DURATION}s per cell, connections = 2 x workers, loopback only."
echo "Rate limits are OFF for this benchmark (CREDFOLIO_RATELIMIT_ENABLED=false)."
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), \
$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "Tools: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), gunicorn $("$PY" -c 'import gunicorn; print(gunicorn.__version__)'), \
Python $("$PY" -c 'import platform; print(platform.python_version())')"
for db in $DATABASES; do
  case "$db" in
    sqlite) bench_database sqlite "sqlite:///$WORK/sqlite/credfolio.sqlite3" ;;
    postgresql)
      pg create "$POSTGRES_URL"
      echo "PostgreSQL $("$PY" -c 'import sys, psycopg; from sqlalchemy.engine import make_url
u = make_url(sys.argv[1]).set(drivername="postgresql").render_as_string(hide_password=False)
print(psycopg.connect(u).execute("SHOW server_version").fetchone()[0])' "$POSTGRES_URL")"
      CREATED_DB=$POSTGRES_URL
      bench_database postgresql "$POSTGRES_URL"
      pg drop "$POSTGRES_URL"
      CREATED_DB=""
      ;;
    *) echo "unknown database $db (sqlite, postgresql)" >&2; exit 2 ;;
  esac
done

"$PY" - "$RESULTS" "$DURATION" "$JSON_OUT" <<'EOF'
import json
import sys

path, duration, json_out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for line in open(path, encoding="utf-8"):
    endpoint, db, workers, fields = line.rstrip("\n").split("\t")
    values = dict(item.split("=") for item in fields.split())
    requests, seconds = int(values["requests"]), int(values["duration_us"]) / 1e6
    rows.append({
        "endpoint": endpoint, "db": db, "workers": int(workers),
        "requests_per_second": round(requests / seconds, 1),
        "p50_ms": int(values["p50_us"]) / 1000, "p90_ms": int(values["p90_us"]) / 1000,
        "p99_ms": int(values["p99_us"]) / 1000, "requests": requests,
        "errors": int(values["non_2xx"]) + int(values["socket_errors"]),
        "duration_s": duration,
    })
print()
print(f"| endpoint | db | workers | req/s | p50 ms | p99 ms | errors / requests |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['endpoint']} | {r['db']} | {r['workers']} | {r['requests_per_second']:.1f} | "
          f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} / {r['requests']} |")
if json_out:
    with open(json_out, "w", encoding="utf-8") as f:
        json.dump({"duration_s": duration, "results": rows}, f, indent=2)
    print(f"\nResults written to {json_out}")
EOF
