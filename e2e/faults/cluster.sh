# Sourced by e2e/run-faults.sh (not run): the Flink standalone cluster of bin/flink-cluster, started the
# same way (same jars, conf/flink, -D ports and folders, PID files <var>/flink/{jobmanager,taskmanager-N}.pid,
# so `bin/flink-cluster stop|status` still work on it), plus what the fault tests need and bin/flink-cluster
# does not offer: starting, kill -9'ing and restarting ONE TaskManager by index, faster detection of a lost
# TaskManager (heartbeats), job submission of a given jar with an optional savepoint, stop-with-savepoint,
# and REST polling.
#
# Needs QPARAMS_VAR_DIR, QPARAMS_FLINK_REST_PORT, QPARAMS_FLINK_RPC_PORT exported before sourcing.
# shellcheck shell=bash
# shellcheck source=bin/lib/servers.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/bin/lib/servers.sh"

flink_dir=$var_dir/flink
flink_log_dir=$flink_dir/log
flink_conf_dir=$root/conf/flink
jm_class=org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint
tm_class=org.apache.flink.runtime.taskexecutor.TaskManagerRunner
rest_url=http://localhost:$flink_rest_port

# bin/flink-cluster's dynamic properties, plus heartbeats: a kill -9'd TaskManager refuses the heartbeat RPC at
# once, and after heartbeat.rpc-failure-threshold (2) failed heartbeats, 1 s apart, the JobManager drops it
# (Flink's default is 10 s apart, or a 50 s timeout). The timeout stays well above GC pauses on a busy machine.
flink_dynamic_properties=(
    -D "rest.port=$flink_rest_port"
    -D "jobmanager.rpc.port=$flink_rpc_port"
    -D "io.tmp.dirs=$flink_dir/tmp"
    -D "web.tmpdir=$flink_dir/web"
    -D "execution.checkpointing.dir=file://$flink_dir/checkpoints"
    -D "heartbeat.interval=1 s"
    -D "heartbeat.timeout=15 s"
)
export FLINK_CONF_DIR=$flink_conf_dir
export FLINK_PLUGINS_DIR=$flink_dir/plugins

flink_resource_params() { # GET_JM_RESOURCE_PARAMS | GET_TM_RESOURCE_PARAMS: 2 lines, JVM args and -D args
    java -cp "$flink_lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$flink_conf_dir" \
        "${flink_dynamic_properties[@]}" 2>&1 | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p'
}

flink_start_daemon() { # name log_name jvm_params dynamic_params class [args...] -> pid
    local name=$1 log_name=$2 jvm_params=$3 dynamic_params=$4
    shift 4
    # Started from a subshell, as bin/flink-cluster's daemons are from their script: not this shell's child,
    # so a kill -9 later is not reported as a job of this shell ("Killed ...") and init reaps it.
    (
        # shellcheck disable=SC2086 # the BashJavaUtils lines are lists of words
        nohup java $jvm_params "${flink_java_opts[@]}" -Dlog.file="$flink_log_dir/$log_name.log" \
            -Dlog4j.configurationFile="file:$flink_conf_dir/log4j.properties" \
            -cp "$flink_lib/*" "$@" "${flink_dynamic_properties[@]}" $dynamic_params \
            >"$flink_log_dir/$log_name.out" 2>&1 </dev/null &
        echo $! >"$flink_dir/$name.pid"
    )
    cat "$flink_dir/$name.pid"
}

# TaskManager ids the ResourceManager has registered, one a line.
taskmanager_ids() {
    curl -sf --max-time 3 "$rest_url/taskmanagers" 2>/dev/null | jq -r '.taskmanagers[].id' 2>/dev/null | sort
}

# The JobManager and N TaskManagers; returns once all N registered (nonzero after 120 s or when one died).
cluster_start() { # taskmanagers
    local n=$1 i waited=0
    port_in_use "$flink_rest_port" && { log "port $flink_rest_port is in use"; return 1; }
    port_in_use "$flink_rpc_port" && { log "port $flink_rpc_port is in use"; return 1; }
    mkdir -p "$flink_log_dir" "$flink_dir/tmp" "$flink_dir/web" "$flink_dir/checkpoints" "$FLINK_PLUGINS_DIR"
    rm -f "$flink_dir"/taskmanager-*.pid
    local jm_params
    jm_params=$(flink_resource_params GET_JM_RESOURCE_PARAMS)
    flink_resource_params GET_TM_RESOURCE_PARAMS >"$flink_dir/tm-params"
    [ "$(grep -c . "$flink_dir/tm-params")" = 2 ] && [ "$(grep -c . <<<"$jm_params")" = 2 ] \
        || { log "BashJavaUtils gave no memory parameters"; return 1; }
    flink_start_daemon jobmanager jobmanager "$(head -n 1 <<<"$jm_params")" "$(tail -n 1 <<<"$jm_params")" \
        "$jm_class" --configDir "$flink_conf_dir" >/dev/null
    for i in $(seq 1 "$n"); do tm_start "$i" >/dev/null; done
    until [ "$(taskmanager_ids | grep -c .)" -ge "$n" ]; do
        live_pid "$flink_dir/jobmanager.pid" "$jm_class" >/dev/null || { show_logs "$flink_log_dir/jobmanager.log"; return 1; }
        [ "$waited" -ge 120 ] && { show_logs "$flink_log_dir/jobmanager.log"; return 1; }
        sleep 1
        waited=$((waited + 1))
    done
}

# Starts TaskManager i (PID file taskmanager-i.pid); each start logs to its own file taskmanager-i.<n>.log.
tm_start() { # index -> pid
    local i=$1 n=1
    while [ -e "$flink_log_dir/taskmanager-$i.$n.log" ]; do n=$((n + 1)); done
    flink_start_daemon "taskmanager-$i" "taskmanager-$i.$n" "$(head -n 1 "$flink_dir/tm-params")" \
        "$(tail -n 1 "$flink_dir/tm-params")" "$tm_class" --configDir "$flink_conf_dir"
}

# kill -9 of TaskManager i; returns once the process is gone (or a zombie: no command line any more).
tm_kill() { # index -> the pid killed
    local pid
    pid=$(live_pid "$flink_dir/taskmanager-$1.pid" "$tm_class") || return 1
    kill -KILL "$pid" || return 1
    while [ -r "/proc/$pid/cmdline" ] && [ -s "/proc/$pid/cmdline" ]; do sleep 0.1; done
    rm -f "$flink_dir/taskmanager-$1.pid"
    echo "$pid"
}

cluster_stop() {
    local f
    # TaskManagers first (as bin/flink-cluster stop), each by its PID file.
    for f in "$flink_dir"/taskmanager-*.pid; do
        [ -e "$f" ] && stop_pid "$f" "$tm_class" "$(basename "$f" .pid)" 30
    done
    stop_pid "$flink_dir/jobmanager.pid" "$jm_class" jobmanager 30
}

# ---- jobs ----

# The job's state, e.g. RUNNING, RESTARTING, FINISHED (empty when the REST API does not answer).
job_state() { # job_id
    curl -sf --max-time 5 "$rest_url/jobs/$1" 2>/dev/null | jq -r '.state // empty' 2>/dev/null
}

# RUNNING with every task deployed and running.
job_fully_running() { # job_id
    local details
    details=$(curl -sf --max-time 5 "$rest_url/jobs/$1" 2>/dev/null) || return 1
    [ "$(jq -r .state <<<"$details")" = RUNNING ] || return 1
    [ "$(jq '[.vertices[] | .tasks | to_entries[] | select(.key != "RUNNING" and .value > 0)] | length' \
        <<<"$details")" = 0 ]
}

wait_job_running() { # job_id timeout_s
    local waited=0
    until job_fully_running "$1"; do
        [ "$waited" -ge "$(($2 * 2))" ] && return 1
        case "$(job_state "$1")" in FAILED|CANCELED|FINISHED) return 1 ;; esac
        sleep 0.5
        waited=$((waited + 1))
    done
}

job_restarts() { # job_id -> numRestarts (0 when unknown)
    local n
    n=$(curl -sf --max-time 5 "$rest_url/jobs/$1/metrics?get=numRestarts" 2>/dev/null | jq -r '.[0].value // empty' 2>/dev/null)
    echo "${n:-0}"
}

# Submits `jar` with the Flink CLI (detached, parallelism 2), from a savepoint when -s is given; prints the job
# id once every task runs. Job flags follow the jar (the job's main() runs here and creates missing topics).
submit_job() { # jar [-s savepoint] job-flags...
    local jar=$1 output job_id
    shift
    local from=()
    if [ "${1:-}" = -s ]; then
        from=(-s "$2")
        shift 2
    fi
    output=$(java -Xmx384m "${flink_java_opts[@]}" -Dlog.file="$flink_log_dir/flink-cli.log" \
        -Dlog4j.configurationFile="file:$root/conf/flink/log4j-cli.properties" -cp "$flink_lib/*" \
        org.apache.flink.client.cli.CliFrontend run -d -m "localhost:$flink_rest_port" -p 2 "${from[@]}" \
        "$jar" "$@" 2>&1) || { echo "$output" | tail -n 20 >&2; return 1; }
    job_id=$(sed -n 's/.*submitted with JobID \([0-9a-f]\{32\}\).*/\1/p' <<<"$output" | head -n 1)
    [ -n "$job_id" ] || { echo "$output" | tail -n 20 >&2; return 1; }
    wait_job_running "$job_id" 90 || { log "job $job_id is not running: $(job_state "$job_id")"; return 1; }
    echo "$job_id"
}

cancel_job() { # job_id: cancels and waits until CANCELED
    local waited=0
    curl -sf --max-time 10 -X PATCH "$rest_url/jobs/$1?mode=cancel" >/dev/null || return 1
    until [ "$(job_state "$1")" = CANCELED ]; do
        [ "$waited" -ge 60 ] && return 1
        sleep 0.5
        waited=$((waited + 1))
    done
}

# POST /jobs/<id>/stop {"drain": false, "targetDirectory": dir}, polls the trigger; prints the savepoint path.
stop_with_savepoint() { # job_id dir
    local request status waited=0
    request=$(curl -sf --max-time 10 -X POST -H 'Content-Type: application/json' \
        -d "{\"drain\": false, \"targetDirectory\": \"file://$2\"}" "$rest_url/jobs/$1/stop" | jq -r '.["request-id"]') \
        || return 1
    while [ "$waited" -lt 240 ]; do
        status=$(curl -sf --max-time 5 "$rest_url/jobs/$1/savepoints/$request" 2>/dev/null || true)
        case "$(jq -r '.status.id // empty' <<<"$status" 2>/dev/null)" in
            COMPLETED)
                if [ "$(jq -r '.operation.location // empty' <<<"$status")" != "" ]; then
                    jq -r '.operation.location' <<<"$status"
                    return 0
                fi
                log "stop-with-savepoint failed: $(jq -c '.operation."failure-cause" // .operation' <<<"$status" | head -c 600)"
                return 1 ;;
        esac
        sleep 0.5
        waited=$((waited + 1))
    done
    log "stop-with-savepoint did not complete within 120 s"
    return 1
}
