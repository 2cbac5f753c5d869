#!/usr/bin/env bash
# The production topology as a test suite, all on 127.0.0.1 in one temporary folder:
#
#   nginx (deploy/nginx.conf, round robin) ──> insights serve A and insights serve B
#   A, B ── DATABASE_URL ──────────────────────> PgBouncer (pool_mode = transaction) ──> primary
#   A, B ── INSIGHTS_MIGRATION_DATABASE_URL ───> the PostgreSQL primary (migrations)
#   A    ── INSIGHTS_LISTEN_DATABASE_URL ──────> the primary (LISTEN: revocations)
#   B    ── INSIGHTS_LISTEN_DATABASE_URL ──────> PgBouncer (wrong on purpose: B must detect it)
#   A, B ── INSIGHTS_READ_DATABASE_URL ────────> a streaming standby (pg_basebackup -R)
#
# and then, through it:
#   a. the SCIM compliance checker (scripts/scim-compliance.sh) through nginx;
#   b. console sign-in, first password change and Generate Token through nginx with a cookie
#      jar, the session used on both replicas, the token used for SCIM;
#   c. Regenerate Token and Revoke now: each replica refuses the revoked token within
#      REVOCATION_BOUND_SECS (A hears the revocation by LISTEN/NOTIFY; B's listen URL is the
#      pooler, which B must detect and then remember no token), the new token works on both;
#   d. kill -9 of replica A under 16 threads of SCIM creates through nginx: every create that
#      was acknowledged (201) is there afterwards; A restarts and becomes ready;
#   e. console reads go to the standby, writes to the primary, and with the standby stopped
#      the console still answers.
#
#   bash deploy/topology-test.sh                        # target/debug/insights, built if missing
#   INSIGHTS_BIN=path/to/insights bash deploy/topology-test.sh
#
# Runs as root (CI: .ci/run on a clean Debian 12): installs pgbouncer and nginx from Debian if
# missing, without letting their packages start system services, and runs PostgreSQL and
# PgBouncer as the postgres user. It starts its own instances on free ports, stops only the
# processes it started (by PID) and removes its folder however it ends. Every check is run;
# each failure prints `topology: FAILED ...`, and the script then exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

# How long after "Revoke now" answers every replica may still accept the revoked token.
REVOCATION_BOUND_SECS=3
# The create load of check d: threads, seconds, and when replica A is killed.
LOAD_THREADS=16
LOAD_SECS=6
KILL_AFTER_SECS=2

SUITE_START=$(date +%s)
TARGET="${CARGO_TARGET_DIR:-target}"
SOURCE_BIN="${INSIGHTS_BIN:-$TARGET/debug/insights}"

log() { printf '==> %s\n' "$*" >&2; }
say() { printf 'topology: %s\n' "$*"; }
die() {
  say "FAILED $*"
  exit 1
}

FAILURES=()
failed() { # failed NAME MESSAGE: a check failed; the others still run
  say "FAILED $2"
  FAILURES+=("$1")
}
# A command of the set-up that fails ends the run, and says which.
trap 'say "FAILED setup: \`$BASH_COMMAND\` exited $? (line $LINENO)"' ERR

STEP_START=$SECONDS
begin_step() { # begin_step TEXT: a check begins
  STEP_START=$SECONDS
  log "$*"
}
step_took() { echo "$((SECONDS - STEP_START)) s"; }

# ---------------------------------------------------------------------------------------------
# Packages: pgbouncer and nginx from Debian, without starting their services.
# ---------------------------------------------------------------------------------------------
POLICY_RC=/usr/sbin/policy-rc.d
CREATED_POLICY_RC=
remove_policy_rc() {
  if [ -n "$CREATED_POLICY_RC" ]; then
    rm -f "$POLICY_RC"
    CREATED_POLICY_RC=
  fi
}

install_packages() {
  local missing=()
  [ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || missing+=(pgbouncer)
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" -eq 0 ] || die "setup: ${missing[*]} missing and not root to install them"
  log "installing ${missing[*]} (their services are not started)"
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\n# deploy/topology-test.sh: no service starts during its install\nexit 101\n' \
      >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    CREATED_POLICY_RC=1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq || die "setup: apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null || die "setup: apt-get install ${missing[*]}"
  fi
  remove_policy_rc
}

trap remove_policy_rc EXIT
install_packages
trap - EXIT
PGBOUNCER="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
PGBIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)")"
[ -x "$PGBIN/initdb" ] || die "setup: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
id postgres >/dev/null 2>&1 || die "setup: no postgres system user"

if [ ! -x "$SOURCE_BIN" ]; then
  [ -z "${INSIGHTS_BIN:-}" ] || die "setup: no insights binary at $SOURCE_BIN"
  log "building $SOURCE_BIN"
  cargo build --quiet -p server --bin insights
fi
[ -x "$SOURCE_BIN" ] || die "setup: no insights binary at $SOURCE_BIN"

# ---------------------------------------------------------------------------------------------
# The folder, the ports and the clean-up.
# ---------------------------------------------------------------------------------------------
WORK="$(mktemp -d /tmp/insights-topology.XXXXXX)"
chmod 755 "$WORK"
PG="$WORK/pg"          # everything the postgres user writes
mkdir -p "$PG/run" "$WORK/nginx" "$WORK/a" "$WORK/b"
chown postgres: "$PG" "$PG/run"
# A copy of the binary: a rebuild during the run must not change the replica that restarts.
BIN="$WORK/insights"
cp "$SOURCE_BIN" "$BIN"

read -r PRIMARY_PORT STANDBY_PORT BOUNCER_PORT A_PORT B_PORT NGINX_PORT < <(python3 - <<'PY'
import socket
sockets = [socket.socket() for _ in range(6)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
for s in sockets:
    s.close()
PY
)

DB_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
PRIMARY_URL="postgres://insights:$DB_PASSWORD@127.0.0.1:$PRIMARY_PORT/insights"
STANDBY_URL="postgres://insights:$DB_PASSWORD@127.0.0.1:$STANDBY_PORT/insights"
BOUNCER_URL="postgres://insights:$DB_PASSWORD@127.0.0.1:$BOUNCER_PORT/insights"
PUBLIC_URL="http://127.0.0.1:$NGINX_PORT"
A_URL="http://127.0.0.1:$A_PORT"
B_URL="http://127.0.0.1:$B_PORT"

A_PID=""
B_PID=""
NGINX_PID=""
BOUNCER_PID=""
PRIMARY_STARTED=""
STANDBY_STARTED=""
A_LOGS=("$WORK/a/serve-1.log")

stop_pid() { # stop_pid PID NAME: SIGTERM, up to 15 s, then SIGKILL; only that PID
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 75); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$2 (pid $pid) did not stop in 15 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

pg_stop() { # pg_stop DATADIR
  [ -f "$1/postmaster.pid" ] || return 0
  runuser -u postgres -- "$PGBIN/pg_ctl" stop -D "$1" -m fast -w -t 30 >/dev/null 2>&1 || true
}

show_logs() {
  local file
  for file in "${A_LOGS[@]}" "$WORK/b/serve.log" "$WORK/migrate.log" "$PG/pgbouncer.log" \
    "$WORK/nginx/error.log" "$PG/primary.log" "$PG/standby.log"; do
    [ -s "$file" ] || continue
    log "last lines of ${file#"$WORK"/}:"
    # (the standby logs every statement: those lines are left out)
    grep -v ' duration: ' "$file" | tail -n 15 | cut -c 1-400 >&2
  done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM ERR
  set +e
  if [ "$status" -ne 0 ]; then
    show_logs
  fi
  stop_pid "$NGINX_PID" nginx
  stop_pid "$A_PID" "replica A"
  stop_pid "$B_PID" "replica B"
  # (pgbouncer daemonizes: its PID is in its pid file)
  [ -n "$BOUNCER_PID" ] || BOUNCER_PID="$(cat "$PG/pgbouncer.pid" 2>/dev/null)"
  stop_pid "$BOUNCER_PID" pgbouncer
  [ -z "$STANDBY_STARTED" ] || pg_stop "$PG/standby"
  [ -z "$PRIMARY_STARTED" ] || pg_stop "$PG/primary"
  rm -rf "$WORK"
  say "finished in $(($(date +%s) - SUITE_START)) s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# psql as the insights role over TCP, unaligned, tuples only: psql_at PORT DATABASE ARGS...
psql_at() {
  local port=$1 db=$2
  shift 2
  PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=5 "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$port" -U insights -d "$db" "$@"
}

# wait_until SECONDS WHAT COMMAND...: retries COMMAND every 0.2 s.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "setup: $what not within $seconds s"
    sleep 0.2
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL primary and streaming standby.
# ---------------------------------------------------------------------------------------------
log "PostgreSQL primary on 127.0.0.1:$PRIMARY_PORT, standby on 127.0.0.1:$STANDBY_PORT ($PGBIN)"
printf '%s\n' "$DB_PASSWORD" >"$PG/pwfile"
chown postgres: "$PG/pwfile"
chmod 600 "$PG/pwfile"
runuser -u postgres -- "$PGBIN/initdb" -D "$PG/primary" -U insights --pwfile="$PG/pwfile" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
  >"$PG/initdb.log" 2>&1 || { cat "$PG/initdb.log" >&2; die "setup: initdb"; }
cat >>"$PG/primary/postgresql.conf" <<EOF

# deploy/topology-test.sh
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = '$PG/run'
max_connections = 200
shared_buffers = 64MB
password_encryption = scram-sha-256
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
hot_standby = on
EOF
cat >"$PG/primary/pg_hba.conf" <<'EOF'
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
EOF
runuser -u postgres -- "$PGBIN/pg_ctl" start -D "$PG/primary" -l "$PG/primary.log" -w -t 60 \
  >/dev/null || die "setup: the primary did not start"
PRIMARY_STARTED=1
psql_at "$PRIMARY_PORT" postgres -c "CREATE DATABASE insights"

runuser -u postgres -- env PGPASSWORD="$DB_PASSWORD" "$PGBIN/pg_basebackup" -h 127.0.0.1 \
  -p "$PRIMARY_PORT" -U insights -D "$PG/standby" -R -X stream -c fast \
  >"$PG/basebackup.log" 2>&1 || { cat "$PG/basebackup.log" >&2; die "setup: pg_basebackup"; }
# Every statement the standby runs is logged (with its database), so that check e can count
# the console's reads there.
cat >>"$PG/standby/postgresql.conf" <<EOF
port = $STANDBY_PORT
log_min_duration_statement = 0
log_line_prefix = '%m [%p] %u@%d '
EOF
cat >>"$PG/standby/postgresql.auto.conf" <<EOF
primary_conninfo = 'host=127.0.0.1 port=$PRIMARY_PORT user=insights password=$DB_PASSWORD application_name=standby'
EOF
runuser -u postgres -- "$PGBIN/pg_ctl" start -D "$PG/standby" -l "$PG/standby.log" -w -t 60 \
  >/dev/null || die "setup: the standby did not start"
STANDBY_STARTED=1
streaming() {
  [ "$(psql_at "$PRIMARY_PORT" postgres -c \
    "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby' AND state = 'streaming'")" = 1 ] &&
    [ "$(psql_at "$STANDBY_PORT" postgres -c "SELECT pg_is_in_recovery()")" = t ]
}
wait_until 30 "the standby streaming from the primary" streaming
say "standby streaming from the primary (pg_stat_replication: streaming; pg_is_in_recovery: t)"

# ---------------------------------------------------------------------------------------------
# PgBouncer in transaction mode in front of the primary (and the standby, as insights_standby).
# ---------------------------------------------------------------------------------------------
log "PgBouncer (transaction mode) on 127.0.0.1:$BOUNCER_PORT"
printf '"insights" "%s"\n' "$DB_PASSWORD" >"$PG/userlist.txt"
cat >"$PG/pgbouncer.ini" <<EOF
[databases]
insights = host=127.0.0.1 port=$PRIMARY_PORT dbname=insights
insights_standby = host=127.0.0.1 port=$STANDBY_PORT dbname=insights

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $PG/userlist.txt
admin_users = insights
pool_mode = transaction
default_pool_size = 8
max_client_conn = 500
ignore_startup_parameters = extra_float_digits,options,application_name
logfile = $PG/pgbouncer.log
pidfile = $PG/pgbouncer.pid
EOF
chown postgres: "$PG/userlist.txt" "$PG/pgbouncer.ini"
chmod 600 "$PG/userlist.txt"
runuser -u postgres -- "$PGBOUNCER" -d "$PG/pgbouncer.ini" >"$PG/pgbouncer.out" 2>&1 ||
  { cat "$PG/pgbouncer.out" >&2; die "setup: pgbouncer did not start"; }
wait_until 10 "pgbouncer's pid file" test -s "$PG/pgbouncer.pid"
BOUNCER_PID="$(cat "$PG/pgbouncer.pid")"
wait_until 15 "pgbouncer answering" psql_at "$BOUNCER_PORT" insights -c "SELECT 1"
BOUNCER_MODE="$(psql_at "$BOUNCER_PORT" pgbouncer -c "SHOW CONFIG" | awk -F'|' '$1 == "pool_mode" { print $2 }')"
say "pgbouncer $("$PGBOUNCER" --version | head -n 1 | awk '{ print $2 }') pool_mode=$BOUNCER_MODE default_pool_size=8"

# ---------------------------------------------------------------------------------------------
# Migrations once, then two replicas at the same moment.
# ---------------------------------------------------------------------------------------------
SECRET_KEY="$("$BIN" secret-key)"
common_env() { # the environment of every insights command here
  export DATABASE_URL="$BOUNCER_URL"
  export INSIGHTS_DB_POOLER=transaction
  export INSIGHTS_MIGRATION_DATABASE_URL="$PRIMARY_URL"
  export INSIGHTS_SECRET_KEY="$SECRET_KEY"
  export INSIGHTS_PUBLIC_URL="$PUBLIC_URL"
  export INSIGHTS_TRUSTED_PROXIES=127.0.0.1
  export INSIGHTS_LOG_FORMAT=json
  export INSIGHTS_DATA_DIR="$WORK/cli-data"
  unset INSIGHTS_LISTEN_DATABASE_URL INSIGHTS_READ_DATABASE_URL
}
cli() { (common_env && exec "$BIN" "$@"); }

log "insights migrate (DATABASE_URL: pgbouncer, INSIGHTS_MIGRATION_DATABASE_URL: the primary)"
cli migrate >"$WORK/migrate.log" 2>&1 || die "setup: insights migrate exited $?"

start_replica() { # start_replica A|B LOGFILE: sets A_PID / B_PID
  local name=$1 logfile=$2 port data
  if [ "$name" = A ]; then port=$A_PORT; else port=$B_PORT; fi
  data="$WORK/$(printf '%s' "$name" | tr AB ab)/data"
  (
    common_env
    export INSIGHTS_BIND="127.0.0.1:$port"
    export INSIGHTS_DATA_DIR="$data"
    export INSIGHTS_READ_DATABASE_URL="$STANDBY_URL"
    # A hears revocations by LISTEN on the primary. B's listen URL is the pooler, where a LISTEN
    # session cannot be held: B must notice (announcements from another connection never reach
    # it) and remember no token, so revocations reach it whatever becomes of notifications.
    if [ "$name" = A ]; then
      export INSIGHTS_LISTEN_DATABASE_URL="$PRIMARY_URL"
    else
      export INSIGHTS_LISTEN_DATABASE_URL="$BOUNCER_URL"
    fi
    exec "$BIN" serve
  ) >"$logfile" 2>&1 &
  if [ "$name" = A ]; then A_PID=$!; else B_PID=$!; fi
  # Not a job of this shell: its kill -9 in check d is not reported as "Killed".
  disown $!
}

replica_ready() { # replica_ready PID URL
  kill -0 "$1" 2>/dev/null || return 2
  http_ok "$2/readyz"
}
wait_ready() { # wait_ready NAME PID URL SECONDS
  local deadline=$(($(date +%s) + $4)) status
  while :; do
    status=0
    replica_ready "$2" "$3" || status=$?
    [ "$status" -ne 0 ] || return 0
    [ "$status" -ne 2 ] || die "setup: replica $1 exited during start-up"
    [ "$(date +%s)" -lt "$deadline" ] || die "setup: replica $1 not ready within $4 s"
    sleep 0.2
  done
}

log "replicas A on $A_URL and B on $B_URL"
start_replica A "${A_LOGS[0]}"
start_replica B "$WORK/b/serve.log"
wait_ready A "$A_PID" "$A_URL" 60
wait_ready B "$B_PID" "$B_URL" 60

# ---------------------------------------------------------------------------------------------
# nginx from deploy/nginx.conf, its upstreams and port swapped for ours.
# ---------------------------------------------------------------------------------------------
log "nginx on $PUBLIC_URL"
sed -e "s/app1:8080/127.0.0.1:$A_PORT/" -e "s/app2:8080/127.0.0.1:$B_PORT/" \
  -e "s/listen 80;/listen 127.0.0.1:$NGINX_PORT;/" deploy/nginx.conf >"$WORK/nginx/insights.conf"
grep -q "127.0.0.1:$A_PORT" "$WORK/nginx/insights.conf" &&
  grep -q "127.0.0.1:$B_PORT" "$WORK/nginx/insights.conf" &&
  grep -q "listen 127.0.0.1:$NGINX_PORT;" "$WORK/nginx/insights.conf" ||
  die "setup: deploy/nginx.conf no longer has app1:8080, app2:8080 and listen 80"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log $WORK/nginx/access.log;
    client_body_temp_path $WORK/nginx/client_body_temp;
    proxy_temp_path $WORK/nginx/proxy_temp;
    fastcgi_temp_path $WORK/nginx/fastcgi_temp;
    uwsgi_temp_path $WORK/nginx/uwsgi_temp;
    scgi_temp_path $WORK/nginx/scgi_temp;
    include $WORK/nginx/insights.conf;
}
EOF
"$NGINX" -t -q -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" ||
  die "setup: nginx -t"
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
wait_until 15 "nginx answering /readyz" http_ok "$PUBLIC_URL/readyz"
say "up: primary :$PRIMARY_PORT, standby :$STANDBY_PORT, pgbouncer :$BOUNCER_PORT, replicas :$A_PORT (A) :$B_PORT (B), nginx :$NGINX_PORT"

# ---------------------------------------------------------------------------------------------
# The HTTP driver: deploy/topology/checks.py (Python 3 standard library only).
# ---------------------------------------------------------------------------------------------

export TOPO_PUBLIC="$PUBLIC_URL" TOPO_A="$A_URL" TOPO_B="$B_URL" TOPO_STATE="$WORK/state.json"
export TOPO_JAR="$WORK/cookies.txt" TOPO_RESULT="$WORK/result.txt"
export TOPO_BOUND_SECS="$REVOCATION_BOUND_SECS"
topo() { python3 deploy/topology/checks.py "$@"; }
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# ---------------------------------------------------------------------------------------------
# a. SCIM compliance through nginx.
# ---------------------------------------------------------------------------------------------
begin_step "a. SCIM compliance (scim2-tester) through nginx"
TENANT_JSON="$(cli tenant create --name "Topology Compliance" --scim \
  --openid-issuer https://idp.example/ --openid-client-id x --openid-client-secret y --json)" ||
  die "a: insights tenant create through pgbouncer"
COMPLIANCE_TENANT="$(printf '%s' "$TENANT_JSON" | json_field tenant_id)"
TOKEN_JSON="$(cli token generate --tenant "$COMPLIANCE_TENANT" --json)" ||
  die "a: insights token generate through pgbouncer"
COMPLIANCE_URL="$(printf '%s' "$TOKEN_JSON" | json_field tenant_url)"
[ "$COMPLIANCE_URL" = "$PUBLIC_URL/scim/v2/$COMPLIANCE_TENANT" ] ||
  die "a: the Tenant URL is $COMPLIANCE_URL, not under $PUBLIC_URL"
if INSIGHTS_COMPLIANCE_URL="$COMPLIANCE_URL" \
  INSIGHTS_COMPLIANCE_TOKEN="$(printf '%s' "$TOKEN_JSON" | json_field token)" \
  bash scripts/scim-compliance.sh >"$WORK/compliance.log" 2>&1; then
  say "SCIM compliance through nginx: $(grep '^compliance: [0-9]' "$WORK/compliance.log" | sed 's/^compliance: //') ($(step_took))"
else
  grep -E '^(compliance:|==>)' "$WORK/compliance.log" | tail -n 30 || tail -n 30 "$WORK/compliance.log"
  failed a "a: SCIM compliance through nginx (its lines above)"
fi

# ---------------------------------------------------------------------------------------------
# b. The console through nginx: sign-in, password, Generate Token.
# ---------------------------------------------------------------------------------------------
begin_step "b. console sign-in and Generate Token through nginx"
CONSOLE_JSON="$(cli tenant create --name "Topology Console" --admin-email admin@topology.example \
  --scim --openid-issuer https://idp.example/ --openid-client-id x --openid-client-secret y \
  --json)" || die "b: insights tenant create --admin-email through pgbouncer"
printf '%s' "$CONSOLE_JSON" >"$TOPO_STATE"
TENANT_ID="$(json_field tenant_id <"$TOPO_STATE")"
CONSOLE_OK=
if topo console; then CONSOLE_OK=1; else FAILURES+=(b); fi

# ---------------------------------------------------------------------------------------------
# c. Revocation seen by both replicas within the bound.
# ---------------------------------------------------------------------------------------------
has_token_2() { python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1])).get("t2") else 1)' "$TOPO_STATE"; }
if [ -n "$CONSOLE_OK" ]; then
  begin_step "c. Regenerate Token, Revoke now, each replica polled with the revoked token"
  : >"$TOPO_RESULT"
  if topo revoke; then
    while read -r problem; do
      [ -z "$problem" ] || FAILURES+=("$problem")
    done <"$TOPO_RESULT"
  else
    FAILURES+=(c)
  fi
else
  failed c "c: not run (no console token from b)"
fi
# B's listen URL is the pooler: it must have said so (and so remembers no token); A must not.
DETECTED="do not reach the SCIM token listener|is not one database session throughout"
if grep -Eq "$DETECTED" "$WORK/b/serve.log"; then
  say "c: replica B found that its listen URL cannot hold a LISTEN session (a transaction pooler) and checks every token against the database"
else
  failed c-detect "c: replica B did not notice that INSIGHTS_LISTEN_DATABASE_URL is a transaction pooler"
fi
if grep -Eq "$DETECTED" "$WORK/a/serve.log"; then
  failed c-detect "c: replica A, listening on the primary itself, reported its session as unusable"
fi

# ---------------------------------------------------------------------------------------------
# d. kill -9 of replica A under create load through nginx.
# ---------------------------------------------------------------------------------------------
if [ -n "$CONSOLE_OK" ] && has_token_2; then
  begin_step "d. $LOAD_THREADS threads of creates through nginx for $LOAD_SECS s; kill -9 of replica A (pid $A_PID) after $KILL_AFTER_SECS s"
  if TOPO_LOAD_THREADS=$LOAD_THREADS TOPO_LOAD_SECS=$LOAD_SECS TOPO_KILL_AFTER=$KILL_AFTER_SECS \
    TOPO_KILL_PID="$A_PID" topo load; then
    run="$(json_field load_run <"$TOPO_STATE")"
    rows="$(psql_at "$PRIMARY_PORT" insights -c "SELECT count(*) FROM users
      WHERE tenant_id = '$TENANT_ID' AND user_name LIKE 'load-$run-%'")"
    say "the primary holds $rows users of the load ($(json_field load_acked <"$TOPO_STATE") acknowledged; a create whose answer was lost in the kill may be there too)"
  else
    FAILURES+=(d)
  fi
  kill -0 "$A_PID" 2>/dev/null && failed d-kill "d: replica A (pid $A_PID) survived kill -9"
  A_PID=""
  A_LOGS+=("$WORK/a/serve-2.log")
  restarted=$SECONDS
  start_replica A "${A_LOGS[1]}"
  wait_ready A "$A_PID" "$A_URL" 60
  say "replica A restarted and ready in $((SECONDS - restarted)) s (check d: $(step_took))"
else
  failed d "d: not run (no token from c)"
fi

# ---------------------------------------------------------------------------------------------
# e. Console reads on the standby, writes on the primary; the standby stopped.
# ---------------------------------------------------------------------------------------------
if [ -n "$CONSOLE_OK" ]; then
  begin_step "e. console reads on the standby, writes on the primary, then the standby stopped"
  # Sessions of the replicas (ours are psql's, on the postgres database) used since a moment.
  used_since() { # used_since PORT TIMESTAMP
    psql_at "$1" postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'insights'
      AND backend_type = 'client backend' AND state_change > '$2'::timestamptz"
  }
  # Statements run on the standby's insights database since byte OFFSET of its log.
  standby_statements() {
    tail -c +"$(($1 + 1))" "$PG/standby.log" | grep -c ' insights@insights .*duration: ' || true
  }
  since_standby="$(psql_at "$STANDBY_PORT" postgres -c "SELECT now()")"
  since_primary="$(psql_at "$PRIMARY_PORT" postgres -c "SELECT now()")"
  log_offset="$(stat -c %s "$PG/standby.log")"
  if topo pages 4; then
    standby_sessions="$(used_since "$STANDBY_PORT" "$since_standby")"
    primary_sessions="$(used_since "$PRIMARY_PORT" "$since_primary")"
    statements="$(standby_statements "$log_offset")"
    say "console reads: $statements statements on the standby in $standby_sessions of its sessions; $primary_sessions primary sessions (behind pgbouncer) used too, during the 20 page loads"
    if [ "$statements" -eq 0 ]; then
      failed e-standby-reads "e: no console read reached the standby (no statement of a replica in the standby's log during 20 console page loads: INSIGHTS_READ_DATABASE_URL is not used)"
    fi
  else
    FAILURES+=(e-pages)
  fi
  topo write || FAILURES+=(e-write)
  retention_primary="$(psql_at "$PRIMARY_PORT" insights -c \
    "SELECT event_retention_days FROM tenants WHERE id = '$TENANT_ID'")"
  replayed() {
    [ "$(psql_at "$STANDBY_PORT" insights -c \
      "SELECT event_retention_days FROM tenants WHERE id = '$TENANT_ID'")" = 45 ]
  }
  replay="not replayed on the standby within 10 s"
  for _ in $(seq 1 50); do
    if replayed; then
      replay="replayed on the standby"
      break
    fi
    sleep 0.2
  done
  if [ "$retention_primary" = 45 ]; then
    say "console write: retention 45 days committed on the primary, $replay"
  else
    failed e-write "e: the console's write is not on the primary (event_retention_days: '$retention_primary')"
  fi
  # A write sent to the standby fails there with "read-only transaction": none may have been.
  read_only="$(grep -c 'insights@insights ERROR: .*read-only transaction' "$PG/standby.log" || true)"
  if [ "$read_only" -ne 0 ]; then
    grep 'insights@insights ERROR: .*read-only transaction' "$PG/standby.log" | head -n 3 | cut -c 1-300
    failed e-writes-on-standby "e: $read_only writes were sent to the standby during the run"
  fi
  log "stopping the standby (pg_ctl stop -m fast)"
  pg_stop "$PG/standby"
  STANDBY_STARTED=""
  stopped=$SECONDS
  if topo pages 1; then
    say "with the standby stopped the console pages answered 200 ($((SECONDS - stopped)) s for 5 pages: fallback to the primary)"
  else
    failed e-fallback "e: with the standby stopped the console pages did not answer 200"
  fi
  for name in A B; do
    url=$A_URL
    [ "$name" = A ] || url=$B_URL
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/readyz" 2>/dev/null || true)"
    say "with the standby stopped replica $name /readyz answers $code"
  done
  say "check e: $(step_took)"
else
  failed e "e: not run (no console session from b)"
fi

# What the replicas logged at warn or error, by message (answers of 5xx are logged at warn),
# and what they printed that is not a JSON log line.
for file in "${A_LOGS[@]}" "$WORK/b/serve.log"; do
  python3 - "$file" "${file#"$WORK"/}" <<'PY'
import collections, json, re, sys
counts, plain = collections.Counter(), []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        entry = json.loads(line)
    except ValueError:
        if line.strip():
            plain.append(re.sub(r"(password:\s*)\S+", r"\1…", line.strip())[:120])
        continue
    if entry.get("level") in ("WARN", "ERROR"):
        fields = entry.get("fields", {})
        text = entry.get("message") or fields.get("message") or ""
        status = entry.get("status") or fields.get("status")
        error = entry.get("error") or fields.get("error")
        key = f"{entry['level']} {text}" + (f" status={status}" if status else "")
        if error:
            key += f" error={error}"
        counts[" ".join(key.split())[:240]] += 1
total = sum(counts.values())
print(f"topology: {sys.argv[2]}: {total} lines at warn or error, {len(plain)} not JSON")
for text, n in counts.most_common(8):
    print(f"topology:   {n} × {text}")
if plain:
    print(f"topology:   not JSON: {' | '.join(plain[:8])}")
PY
done

if [ ${#FAILURES[@]} -gt 0 ]; then
  say "FAILED checks: ${FAILURES[*]}"
  exit 1
fi
say "all checks passed"
