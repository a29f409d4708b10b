#!/usr/bin/env bash
# Baton PostgreSQL sandbox: turns node NODE into a streaming standby of the (already promoted) primary at
# PRIMARY_HOST:PRIMARY_PORT. Written into the sandbox dir by PostgresSandbox; see PostgresSandbox.rejoinCommand().
#
#   rejoin.sh NODE PRIMARY_HOST PRIMARY_PORT [PRIMARY_NODE]
#
# PRIMARY_HOST:PRIMARY_PORT is where NODE streams from (primary_conninfo); the script itself talks to the new primary
# over the sandbox's socket dir, on PRIMARY_PORT when a server listens there, else on PRIMARY_NODE's own port (the
# stream address may be a proxy in front of it).
#
# Steps: check the new primary is up and not in recovery; stop NODE cleanly (fast) if it runs; finish crash recovery
# in single-user mode if it was not shut down cleanly; CHECKPOINT the new primary; pg_rewind from it; restore NODE's
# sandbox settings (pg_rewind copied the source's postgresql.conf); standby.signal, primary_conninfo and
# primary_slot_name=NODE; create slot NODE on the new primary; pg_ctl start; wait until NODE streams from it.
# Exits 0 only then; otherwise non-zero with "rejoin NODE: <what failed>" on stderr.
set -euo pipefail

node=${1:-}
primary_host=${2:-}
primary_port=${3:-}
base=$(cd "$(dirname "$0")" && pwd)
stream_timeout=${BATON_REJOIN_STREAM_TIMEOUT:-60}

fail() {
    echo "rejoin ${node:-?}: $*" >&2
    exit 1
}
say() {
    echo "rejoin $node: $*"
}

[[ $# -eq 3 || $# -eq 4 ]] || fail "usage: $0 NODE PRIMARY_HOST PRIMARY_PORT [PRIMARY_NODE] (got $# arguments)"
[[ $node =~ ^[a-z0-9_]+$ ]] || fail "node id '$node' is not a sandbox node name ([a-z0-9_]+)"
[[ $primary_host =~ ^[A-Za-z0-9._:-]+$ ]] || fail "primary host '$primary_host' is not a host name or address"
[[ $primary_port =~ ^[0-9]+$ ]] || fail "primary port '$primary_port' is not a port number"
[[ -r $base/sandbox.env ]] || fail "$base/sandbox.env is missing: was this sandbox closed?"
if [[ ! -r $base/$node.env ]]; then
    known=$(cd "$base" && ls -- *.env 2>/dev/null | grep -v '^sandbox\.env$' | sed 's/\.env$//' | tr '\n' ' ' || true)
    fail "no node '$node' in the sandbox at $base (nodes: ${known:-none})"
fi
# shellcheck source=/dev/null
. "$base/sandbox.env" # BIN SOCK
# shellcheck source=/dev/null
. "$base/$node.env" # DATA PORT LOG CONF_BLOCK
primary_node=${4:-}
admin_port=$primary_port
if [[ ! -S $SOCK/.s.PGSQL.$primary_port && -n $primary_node && $primary_node =~ ^[a-z0-9_]+$ && -r $base/$primary_node.env ]]; then
    admin_port=$(. "$base/$primary_node.env" && echo "$PORT")
fi
[[ $admin_port != "$PORT" ]] || fail "port $admin_port is $node's own port: a node cannot follow itself"

cd /
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS PGPASSFILE PGSSLMODE
if [[ $(id -u) -eq 0 ]]; then
    # PostgreSQL refuses to run as root
    if command -v setpriv >/dev/null 2>&1; then
        as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
    else
        as_pg() { runuser -u postgres -- "$@"; }
    fi
    give_to_pg() { chown postgres:postgres "$@"; }
else
    as_pg() { "$@"; }
    give_to_pg() { :; }
fi

# All sandbox nodes share one machine and one socket dir; the bootstrap superuser is trusted on the socket.
sql_on() {
    as_pg "$BIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$1" -U postgres -d postgres -c "$2" 2>&1
}

log_tail() {
    echo "--- last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2 || true
}

# The pid of the running postmaster, or nothing. A zombie does not count (a pg_ctl-started server is adopted by
# whatever reaps orphans here, which may never reap it); its stale lock files would block any restart.
running_pid() {
    local pid state
    [[ -f $DATA/postmaster.pid ]] || return 0
    pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1 || true)
    if [[ -z $state ]]; then
        return 0
    elif [[ $state == Z || $state == X ]]; then
        rm -f "$DATA/postmaster.pid" "$SOCK/.s.PGSQL.$PORT.lock"
        return 0
    fi
    echo "$pid"
}

# 1. the new primary must be up and promoted, or there is nothing to follow (and we must not stop this node)
out=$(sql_on "$admin_port" "SELECT pg_is_in_recovery()") ||
    fail "cannot reach the new primary on port $admin_port (socket dir $SOCK): $out"
[[ $out == f ]] || fail "the server on port $admin_port is still in recovery: promote it before rejoining $node"

# 2. stop this node cleanly if it runs
pid=$(running_pid)
if [[ -n $pid ]]; then
    say "stopping (pid $pid, fast shutdown)"
    kill -CONT "$pid" 2>/dev/null || true # a paused server would never stop
    out=$(as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop 2>&1) || fail "pg_ctl stop failed: $out"
fi
rm -f "$DATA/standby.signal" "$DATA/recovery.signal"

# 3. pg_rewind needs a cleanly shut down target: finish crash recovery of a killed server in single-user mode
state=$(as_pg "$BIN/pg_controldata" -D "$DATA" 2>&1) || fail "pg_controldata failed: $state"
state=$(sed -n 's/^Database cluster state: *//p' <<<"$state")
if [[ $state != "shut down" && $state != "shut down in recovery" ]]; then
    say "cluster state is '$state': finishing crash recovery in single-user mode"
    running_pid >/dev/null
    out=$(as_pg "$BIN/postgres" --single -D "$DATA" postgres </dev/null 2>&1) ||
        fail "crash recovery in single-user mode failed: $out"
fi

# 4. the source's control file must show its new timeline before pg_rewind compares histories
out=$(sql_on "$admin_port" "CHECKPOINT") || fail "CHECKPOINT on the new primary (port $admin_port) failed: $out"

# 5. rewind onto the new primary's timeline
out=$(as_pg "$BIN/pg_rewind" --target-pgdata="$DATA" \
    --source-server="host=$SOCK port=$admin_port user=postgres dbname=postgres" 2>&1) ||
    fail "pg_rewind from port $admin_port failed: $out"
say "pg_rewind: $(tr '\n' ' ' <<<"$out")"

# 6. this node's own settings (pg_rewind copied the source's postgresql.conf, port included), then follow the primary
[[ -r $CONF_BLOCK ]] || fail "$CONF_BLOCK (this node's sandbox settings) is missing"
conf=$(awk 'index($0, "# ---- baton sandbox settings") == 1 { exit } { print }' "$DATA/postgresql.conf")
printf '%s\n%s' "$conf" "$(cat "$CONF_BLOCK")" >"$DATA/postgresql.conf"
echo >>"$DATA/postgresql.conf"
auto=$(grep -v -E '^[[:space:]]*(primary_conninfo|primary_slot_name)[[:space:]]*=' "$DATA/postgresql.auto.conf" || true)
{
    [[ -z $auto ]] || printf '%s\n' "$auto"
    echo "primary_conninfo = 'host=$primary_host port=$primary_port user=postgres application_name=$node'"
    echo "primary_slot_name = '$node'"
} >"$DATA/postgresql.auto.conf"
: >"$DATA/standby.signal"
give_to_pg "$DATA/postgresql.conf" "$DATA/postgresql.auto.conf" "$DATA/standby.signal"

# 7. our slot on the new primary keeps the WAL we have not received yet
out=$(sql_on "$admin_port" "SELECT pg_create_physical_replication_slot('$node', true) WHERE NOT EXISTS
        (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$node')") ||
    fail "cannot create replication slot $node on the new primary: $out"

# 8. start; the server is detached from us (pg_ctl), the sandbox finds it through postmaster.pid
touch "$LOG"
give_to_pg "$LOG"
running_pid >/dev/null
out=$(as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT -k '$SOCK'" -w -t 60 start 2>&1) || {
    log_tail
    fail "pg_ctl start failed: $out"
}

# 9. done only when streaming from the new primary
deadline=$((SECONDS + stream_timeout))
while :; do
    out=$(sql_on "$PORT" "SELECT pg_is_in_recovery() || ' ' || coalesce((SELECT status || ' ' || sender_port
            FROM pg_stat_wal_receiver), 'none')") || out="unreachable: $out"
    case $out in
    "true streaming $primary_port") break ;;
    false*) fail "started as a primary, not as a standby (standby.signal ignored?)" ;;
    esac
    if ((SECONDS >= deadline)); then
        log_tail
        fail "not streaming from port $primary_port after ${stream_timeout}s (recovery, receiver, sender port: $out)"
    fi
    sleep 0.2
done
say "standby of $primary_host:$primary_port, streaming (pid $(running_pid))"
