# Sourced (not run): the Flink 2.2 standalone session cluster of bin/flink-cluster, one JobManager and
# TaskManagers as separate processes on this host, assembled from Maven Central jars (dist/pom.xml;
# flink-dist is not on Central) and configured by conf/flink/config.yaml. For bin/flink-cluster,
# bin/lib/jobs.sh and the e2e tests.
#
#   QPARAMS_FLINK_REST_PORT     REST API and web UI port (default 8081)
#   QPARAMS_FLINK_RPC_PORT      JobManager RPC port (default 6123)
#   QPARAMS_FLINK_METRICS_PORTS the Prometheus reporters' port range (default 9249-9258): each daemon takes
#                               the first one free when its reporter starts (flink_metrics_port tells which)
#   QPARAMS_FLINK_TASKMANAGERS  how many TaskManagers `start` starts (default 2; 2 slots each)
#   QPARAMS_VAR_DIR             logs, PID files, checkpoints go to <dir>/flink (default var/ at the repo root)
#
# Each start of TaskManager i runs under a new resource id, taskmanager-<i>-<n> for its n-th start: the
# REST API names TaskManagers by it, so a restarted TaskManager is told apart from the one it replaces.
# shellcheck shell=bash
# shellcheck source=bin/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

flink_rest_port=${QPARAMS_FLINK_REST_PORT:-8081}
flink_rpc_port=${QPARAMS_FLINK_RPC_PORT:-6123}
flink_metrics_ports=${QPARAMS_FLINK_METRICS_PORTS:-9249-9258}
flink_taskmanagers=${QPARAMS_FLINK_TASKMANAGERS:-2}
flink_dir=$var_dir/flink
flink_log_dir=$flink_dir/log
flink_conf_dir=$root/conf/flink
jm_class=org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint
tm_class=org.apache.flink.runtime.taskexecutor.TaskManagerRunner
rest_url=http://localhost:$flink_rest_port
# Written by `start` and read by every later daemon start, so that a TaskManager started alone gets the
# cluster's settings: the -D dynamic properties (one argument a line) and the TaskManager memory parameters.
flink_properties_file=$flink_dir/dynamic-properties
flink_tm_params_file=$flink_dir/taskmanager-params

export FLINK_CONF_DIR=$flink_conf_dir
# flink-dist's plugins/ folder, from dist/pom.xml: the Prometheus reporter that conf/flink/config.yaml enables.
export FLINK_PLUGINS_DIR=$flink_plugins

flink_rest() { # path: GET from the REST API, the JSON on stdout
    curl -sf --max-time 5 "$rest_url/$1"
}

# The resource ids of the TaskManagers the ResourceManager has registered, one a line.
flink_taskmanager_ids() {
    flink_rest taskmanagers | jq -r '.taskmanagers[].id'
}

# The port a daemon's Prometheus reporter listens on (GET /metrics), from the log of its current start; fails
# when the reporter has not started (yet).
flink_metrics_port() { # name: jobmanager | taskmanager-<i>
    sed -n 's/.*Started PrometheusReporter HTTP server on port \([0-9]*\).*/\1/p' "$flink_log_dir/$1.log" 2>/dev/null \
        | tail -n 1 | grep .
}

# The JVM and -D memory parameters flink-dist's scripts get for a JobManager or TaskManager: two lines.
flink_resource_params() { # GET_JM_RESOURCE_PARAMS | GET_TM_RESOURCE_PARAMS
    local out props
    mapfile -t props <"$flink_properties_file"
    out=$(java -cp "$flink_lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$flink_conf_dir" \
        "${props[@]}" 2>&1) || { echo "$out" >&2; die "BashJavaUtils $1 failed"; }
    out=$(sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' <<<"$out")
    [ "$(grep -c . <<<"$out")" = 2 ] || die "BashJavaUtils $1 gave no memory parameters"
    echo "$out"
}

flink_start_daemon() { # name resource_params class [args...]
    local name=$1 params=$2 props
    shift 2
    mapfile -t props <"$flink_properties_file"
    # shellcheck disable=SC2046 # the BashJavaUtils lines are lists of words
    start_daemon "$flink_dir/$name.pid" "$1" "$flink_log_dir/$name.out" \
        java $(head -n 1 <<<"$params") "${java_opts[@]}" -Dlog.file="$flink_log_dir/$name.log" \
        -Dlog4j.configurationFile="file:$flink_conf_dir/log4j.properties" -cp "$flink_lib/*" \
        "$@" "${props[@]}" $(tail -n 1 <<<"$params") || {
        flink_show_logs "$name"
        die "$name exited as it started (logs: $flink_log_dir)"
    }
    log "started $name (pid $daemon_pid)"
}

# Every daemon of the cluster that has a PID file, as "pid_file marker name" lines.
flink_daemons() {
    local f
    echo "$flink_dir/jobmanager.pid $jm_class jobmanager"
    for f in "$flink_dir"/taskmanager-*.pid; do
        [ -e "$f" ] && echo "$f $tm_class $(basename "$f" .pid)"
    done
    return 0
}

jobmanager_pid() { live_pid "$flink_dir/jobmanager.pid" "$jm_class"; }
taskmanager_pid() { live_pid "$flink_dir/taskmanager-$1.pid" "$tm_class"; } # index

# The resource id TaskManager i runs under (its latest start).
taskmanager_id() { # index
    taskmanager_pid "$1" >/dev/null && cat "$flink_dir/taskmanager-$1.id"
}

# Starts TaskManager i under the next resource id; does not wait.
taskmanager_launch() { # index
    local i=$1 n=1 previous id
    previous=$(cat "$flink_dir/taskmanager-$i.id" 2>/dev/null) && n=$((${previous##*-} + 1))
    id=taskmanager-$i-$n
    echo "$id" >"$flink_dir/taskmanager-$i.id"
    flink_start_daemon "taskmanager-$i" "$(cat "$flink_tm_params_file")" "$tm_class" --configDir "$flink_conf_dir" \
        -D "taskmanager.resource-id=$id"
}

# 0 when the JobManager runs and the given TaskManagers run and are registered under their current ids;
# 1 not yet; 2 when one of these processes is gone.
taskmanagers_registered() { # index...
    local i ids
    jobmanager_pid >/dev/null || return 2
    for i in "$@"; do taskmanager_pid "$i" >/dev/null || return 2; done
    ids=$(flink_taskmanager_ids 2>/dev/null) || return 1
    for i in "$@"; do grep -qxF "$(cat "$flink_dir/taskmanager-$i.id")" <<<"$ids" || return 1; done
}

flink_show_logs() { # name...
    local name
    for name in "$@"; do show_logs "$flink_log_dir/$name.out" "$flink_log_dir/$name.log"; done
}

flink_cluster_start() { # [-D key=value]...: extra Flink dynamic properties, for every daemon of this cluster
    local pid i rc=0 jm_params indexes
    if pid=$(jobmanager_pid); then
        log "already running (jobmanager pid $pid, $rest_url)"
        return 0
    fi
    require_java17
    ensure_dist
    port_in_use "$flink_rest_port" && die "port $flink_rest_port is in use (set QPARAMS_FLINK_REST_PORT)"
    port_in_use "$flink_rpc_port" && die "port $flink_rpc_port is in use (set QPARAMS_FLINK_RPC_PORT): is another Flink cluster running?"
    mkdir -p "$flink_log_dir" "$flink_dir/tmp" "$flink_dir/web" "$flink_dir/checkpoints"
    rm -f "$flink_dir"/taskmanager-*.pid "$flink_dir"/taskmanager-*.id
    # What this run adds to conf/flink/config.yaml, as flink-dist's -D dynamic properties (they win over the file).
    printf '%s\n' -D "rest.port=$flink_rest_port" -D "jobmanager.rpc.port=$flink_rpc_port" \
        -D "metrics.reporter.prom.port=$flink_metrics_ports" \
        -D "io.tmp.dirs=$flink_dir/tmp" -D "web.tmpdir=$flink_dir/web" \
        -D "execution.checkpointing.dir=file://$flink_dir/checkpoints" "$@" >"$flink_properties_file"
    jm_params=$(flink_resource_params GET_JM_RESOURCE_PARAMS)
    flink_resource_params GET_TM_RESOURCE_PARAMS >"$flink_tm_params_file"
    # No `--executionMode cluster` (Flink 1.x's jobmanager.sh passed it): Flink 2's entrypoint parser does
    # not know it, stops there, and silently drops every -D after it (the ports among them).
    flink_start_daemon jobmanager "$jm_params" "$jm_class" --configDir "$flink_conf_dir"
    indexes=$(seq 1 "$flink_taskmanagers")
    for i in $indexes; do taskmanager_launch "$i"; done
    # shellcheck disable=SC2086 # a list of indexes
    wait_until 120 1 taskmanagers_registered $indexes || rc=$?
    if [ "$rc" != 0 ]; then
        # shellcheck disable=SC2046,SC2086 # a list of names
        flink_show_logs jobmanager $(printf 'taskmanager-%s ' $indexes)
        flink_cluster_stop
        [ "$rc" = 2 ] && die "a daemon exited while the cluster was starting (logs: $flink_log_dir)"
        die "$flink_taskmanagers TaskManagers did not register within 120 s (logs: $flink_log_dir)"
    fi
    log "running: $flink_taskmanagers TaskManagers registered, web UI and REST API at $rest_url (logs: $flink_log_dir)"
}

flink_cluster_stop() {
    local line
    # TaskManagers first: a JobManager stopping first would see them as lost and try to restart jobs.
    while read -r line; do
        # shellcheck disable=SC2086
        set -- $line
        [ "$3" = jobmanager ] || stop_pid "$1" "$2" "$3" 30
    done < <(flink_daemons)
    stop_pid "$flink_dir/jobmanager.pid" "$jm_class" jobmanager 30
}

flink_cluster_status() {
    local line pid running=0 id port
    while read -r line; do
        # shellcheck disable=SC2086
        set -- $line
        if pid=$(live_pid "$1" "$2"); then
            id=
            [ "$3" = jobmanager ] || id=", resource id $(cat "$flink_dir/$3.id" 2>/dev/null)"
            port=$(flink_metrics_port "$3") && id+=", metrics http://localhost:$port/metrics"
            echo "$3 running (pid $pid$id)"
            running=1
        else
            echo "$3 not running"
        fi
    done < <(flink_daemons)
    [ "$running" = 1 ] || return 3
    echo "taskmanagers registered: $(flink_taskmanager_ids 2>/dev/null | grep -c .) ($rest_url)"
}

# Starts TaskManager i of the running cluster and returns once it is registered.
taskmanager_start() { # index
    local i=$1 pid rc=0
    jobmanager_pid >/dev/null || die "the cluster is not running (bin/flink-cluster start)"
    if pid=$(taskmanager_pid "$i"); then
        log "taskmanager-$i already running (pid $pid)"
        return 0
    fi
    taskmanager_launch "$i"
    wait_until 120 0.5 taskmanagers_registered "$i" || rc=$?
    if [ "$rc" != 0 ]; then
        flink_show_logs "taskmanager-$i"
        stop_pid "$flink_dir/taskmanager-$i.pid" "$tm_class" "taskmanager-$i" 10
        die "taskmanager-$i did not register within 120 s (logs: $flink_log_dir)"
    fi
    log "taskmanager-$i registered as $(cat "$flink_dir/taskmanager-$i.id")"
}

taskmanager_stop() { stop_pid "$flink_dir/taskmanager-$1.pid" "$tm_class" "taskmanager-$1" 30; } # index
taskmanager_kill() { kill_pid "$flink_dir/taskmanager-$1.pid" "$tm_class" "taskmanager-$1"; }     # index
