# Sourced by every e2e script (e2e/run-e2e.sh, e2e/run-faults.sh), before anything else:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh" NAME PORT_BASE
#
# The prelude: the repo root as working directory, this test's own ports and folder (var/NAME, so a
# broker or cluster of yours on the default ports is left alone), the bin/lib libraries (broker,
# cluster, jobs, wait_until). Then named checks and the closing "N passed, M failed" line (finish), the
# prerequisites, and starting and stopping the servers: everything a test starts is stopped, by PID, on
# any exit. Ports, each PORT_BASE plus Flink's or Kafka's default: NAME_KAFKA_PORT (BASE+9092; the
# controller one above), NAME_FLINK_REST_PORT (BASE+8081), NAME_FLINK_RPC_PORT (BASE+6123),
# NAME_FLINK_METRICS_PORTS (the Prometheus reporters', BASE+8090-BASE+8099), NAME in capitals. Every
# fixed port stays below Linux's ephemeral range (32768-60999 by default): a port in it can be taken, at
# any moment, by the local end of some outgoing connection or by a server that asked for any free port
# (Flink's own blob, data and RPC ports), and the broker then fails to start with "Address already in
# use" (it did once, in CI: the secured test's ports were 39092-39094).
# A test that starts processes of its own defines harness_cleanup to stop them.
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this file

[ $# = 2 ] || { echo "usage: source e2e/lib/harness.sh NAME PORT_BASE" >&2; exit 2; }
harness_name=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
_harness_port() { # NAME_suffix default
    local variable=${harness_name^^}_$1
    echo "${!variable:-$2}"
}
export QPARAMS_VAR_DIR=$root/var/$harness_name
QPARAMS_KAFKA_PORT=$(_harness_port KAFKA_PORT $(($2 + 9092)))
export QPARAMS_KAFKA_PORT
export QPARAMS_KAFKA_CONTROLLER_PORT=$((QPARAMS_KAFKA_PORT + 1))
QPARAMS_FLINK_REST_PORT=$(_harness_port FLINK_REST_PORT $(($2 + 8081)))
export QPARAMS_FLINK_REST_PORT
QPARAMS_FLINK_RPC_PORT=$(_harness_port FLINK_RPC_PORT $(($2 + 6123)))
export QPARAMS_FLINK_RPC_PORT
QPARAMS_FLINK_METRICS_PORTS=$(_harness_port FLINK_METRICS_PORTS "$(($2 + 8090))-$(($2 + 8099))")
export QPARAMS_FLINK_METRICS_PORTS
# shellcheck source=bin/lib/jobs.sh
source "$root/bin/lib/jobs.sh"

python=/usr/bin/python3 # Debian's: the one that sees python3-torch, python3-numpy, python3-confluent-kafka
bootstrap=127.0.0.1:$QPARAMS_KAFKA_PORT
harness_started=$SECONDS
passed=0
failed=0

say() { echo "$harness_name [$((SECONDS - harness_started))s]: $*" >&2; }
# A warning for a port set (by NAME_..._PORT) inside the ephemeral range, where it can be taken (see above).
_harness_warn_ephemeral() {
    local low high port
    read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || return 0
    for port in "$QPARAMS_KAFKA_PORT" "$QPARAMS_KAFKA_CONTROLLER_PORT" $((QPARAMS_KAFKA_PORT + 2)) \
        "$QPARAMS_FLINK_REST_PORT" "$QPARAMS_FLINK_RPC_PORT" "${QPARAMS_FLINK_METRICS_PORTS%-*}" \
        "${QPARAMS_FLINK_METRICS_PORTS#*-}"; do
        if [ "$port" -ge "$low" ] && [ "$port" -le "$high" ]; then
            say "warning: port $port is in this machine's ephemeral range ($low-$high): a start can fail with \"Address already in use\""
        fi
    done
}
result() { # ok|fail name
    if [ "$1" = ok ]; then
        passed=$((passed + 1))
        say "ok   $2"
    else
        failed=$((failed + 1))
        say "FAIL $2"
    fi
}
check() { # name command...: one named check, passed when the command succeeds
    local name=$1
    shift
    if "$@"; then result ok "$name"; else result fail "$name"; fi
}

_harness_warn_ephemeral

# The test's own processes (harness_cleanup), then the cluster and the broker; a no-op when stopped already.
servers_stop() {
    if declare -F harness_cleanup >/dev/null; then harness_cleanup; fi
    bin/flink-cluster stop
    bin/kafka-broker stop
}
servers_stopped() {
    ! bin/flink-cluster status >/dev/null 2>&1 && ! bin/kafka-broker status >/dev/null 2>&1
}
# The first errors of the JobManager's and TaskManagers' logs (all starts), for a run with failures.
show_failures() {
    local f
    for f in "$flink_log_dir"/jobmanager.log "$flink_log_dir"/taskmanager-*.log*; do
        [ -f "$f" ] && grep -m 3 -B 1 -A 6 -E "^[0-9-]+ [0-9:,]+ (ERROR|WARN) .*(Exception|failed)" "$f" >&2
    done
    return 0
}
# Stops everything, then the closing line, which must come last; exit status 1 when anything failed.
finish() {
    trap - EXIT
    [ "$failed" = 0 ] || show_failures
    servers_stop
    say "done in $((SECONDS - harness_started)) s (${harness_summary:+$harness_summary; }logs: $QPARAMS_VAR_DIR)"
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ] && exit 0 || exit 1
}
trap servers_stop EXIT
trap 'exit 130' INT TERM # so that the EXIT trap runs

# What this machine needs (installs nothing): one check, and the end of the test when something is missing.
require() { # "python modules" commands...
    local module tool missing=()
    [ -x "$python" ] || missing+=("$python (apt-get install python3)")
    for module in $1; do
        "$python" -c "import $module" 2>/dev/null || missing+=("python module $module (apt-get install python3-${module/_/-})")
    done
    shift
    for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    for tool in "${missing[@]}"; do say "missing: $tool"; done
    check "prerequisites present" test ${#missing[@]} = 0
    [ ${#missing[@]} = 0 ] || finish
}

# A fresh broker and cluster on this test's ports and folder (wiped first), started at the same time; one
# check each, and the end of the test when either did not come up.
# shellcheck disable=SC2120 # the arguments are optional
servers_start() { # [bin/flink-cluster start arguments...]
    local broker cluster_ok broker_ok
    # Fetched first, once, so that the two starts do not race for the jars.
    (ensure_dist) || { result fail "servers' jars fetched (dist/pom.xml)"; finish; }
    bin/flink-cluster stop 2>/dev/null
    bin/kafka-broker stop 2>/dev/null
    rm -rf "$QPARAMS_VAR_DIR"
    mkdir -p "$QPARAMS_VAR_DIR"
    bin/kafka-broker start &
    broker=$!
    bin/flink-cluster start "$@"
    cluster_ok=$?
    wait "$broker"
    broker_ok=$?
    check "Kafka broker started ($bootstrap)" test "$broker_ok" = 0
    check "Flink cluster started: JobManager + ${QPARAMS_FLINK_TASKMANAGERS:-2} TaskManagers registered ($rest_url)" \
        test "$cluster_ok" = 0
    if [ "$broker_ok" != 0 ] || [ "$cluster_ok" != 0 ]; then finish; fi
}
