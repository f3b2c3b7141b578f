# Sourced (not run): jobs on the cluster of bin/lib/flink.sh. The Flink CLI (submit, stop with a
# savepoint) and the REST API read with jq (state, tasks, restarts, cancel). For bin/qparams-submit and
# the e2e tests. Functions here return nonzero instead of exiting, so that a test can report and go on.
# shellcheck shell=bash
# shellcheck source=bin/lib/flink.sh
source "$(dirname "${BASH_SOURCE[0]}")/flink.sh"

# The Flink CLI (flink-dist's bin/flink) against this cluster; it logs to <var>/flink/log/flink-cli.log.
flink_cli() { # action [options...] [args...]
    local action=$1
    shift
    mkdir -p "$flink_log_dir"
    java -Xmx512m "${java_opts[@]}" -Dlog.file="$flink_log_dir/flink-cli.log" \
        -Dlog4j.configurationFile="file:$flink_conf_dir/log4j-cli.properties" -cp "$flink_lib/*" \
        org.apache.flink.client.cli.CliFrontend "$action" -m "localhost:$flink_rest_port" "$@"
}

# The job's state (RUNNING, RESTARTING, FINISHED, ...); empty when the REST API does not answer.
job_state() { # job_id
    flink_rest "jobs/$1" | jq -r '.state // empty'
}

# numRestarts of the job (0 when unknown). The REST API refreshes metrics every 10 s at most.
job_restarts() { # job_id
    local n
    n=$(flink_rest "jobs/$1/metrics?get=numRestarts" | jq -r '.[0].value // empty' 2>/dev/null)
    echo "${n:-0}"
}

# 0 when the job is RUNNING and every one of its tasks is RUNNING (a job that fails over a region stays
# RUNNING while its tasks are redeployed); 1 not yet; 2 when it ended (FAILED, CANCELED, FINISHED).
job_running() { # job_id
    local details
    details=$(flink_rest "jobs/$1") || return 1
    case "$(jq -r .state <<<"$details")" in
        RUNNING) jq -e '(.vertices | length) > 0
            and ([.vertices[].tasks | to_entries[] | select(.key != "RUNNING" and .value > 0)] == [])' \
            <<<"$details" >/dev/null || return 1 ;;
        FAILED | CANCELED | FINISHED) return 2 ;;
        *) return 1 ;;
    esac
}

job_in_state() { # job_id state: 0 when the job is in that state, else 1
    [ "$(job_state "$1")" = "$2" ]
}

# The job's own counters (docs/operations.md, "Metrics") as the TaskManagers' Prometheus reporters serve them,
# summed over every running TaskManager, operator and subtask: one "name value" line each, sorted; the name is
# batches_applied, resets, nonfinite_values, drift_events, or dead_letters.<reason>. Fails when a running
# TaskManager's reporter does not answer. A restarted task counts from 0 again (its series are new).
job_counters() { # job_id
    local f name port scraped=
    for f in "$flink_dir"/taskmanager-*.pid; do
        name=$(basename "$f" .pid)
        taskmanager_pid "${name#taskmanager-}" >/dev/null || continue
        port=$(flink_metrics_port "$name") || return 1
        scraped+=$(curl -sf --max-time 5 "http://localhost:$port/metrics")$'\n' || return 1
    done
    awk -v job="job_id=\"$1\"" '
        index($0, "flink_taskmanager_job_task_operator_qparams_") == 1 && index($0, job) {
            name = $0
            sub(/\{.*/, "", name)
            sub(/^flink_taskmanager_job_task_operator_qparams_/, "", name)
            if (match($0, /reason="[^"]*"/)) name = "dead_letters." substr($0, RSTART + 8, RLENGTH - 9)
            sum[name] += $NF
        }
        END { for (name in sum) printf "%s %d\n", name, sum[name] }' <<<"$scraped" | sort
}

# Every subtask of the job as a JSON array of {vertex, subtask, attempt, status, taskmanager} (the resource id
# it runs on), read vertex by vertex: each vertex's answer is one consistent view of its subtasks.
job_subtasks() { # job_id
    local details vertex all=
    details=$(flink_rest "jobs/$1") || return 1
    for vertex in $(jq -r '.vertices[].id' <<<"$details"); do
        details=$(flink_rest "jobs/$1/vertices/$vertex") || return 1
        all+=$(jq -c --arg vertex "$vertex" '.subtasks[]
            | {$vertex, subtask, attempt, status, taskmanager: ."taskmanager-id"}' <<<"$details")$'\n'
    done
    [ -n "$all" ] && jq -s -c . <<<"$all"
}

# Submits a job jar with the Flink CLI (`flink run -d`, parallelism QPARAMS_PARALLELISM, default 2), from a
# savepoint with -s, and prints the job id once every task runs. The job's main() runs in the CLI, on this
# machine: it reads its --config here and creates the topics that are missing.
submit_job() { # jar [-s savepoint] job-flags...
    local jar=$1 output job_id rc=0 from=()
    shift
    if [ "${1:-}" = -s ]; then
        from=(-s "$2")
        shift 2
    fi
    if ! output=$(flink_cli run -d -p "${QPARAMS_PARALLELISM:-2}" "${from[@]}" "$jar" "$@" 2>&1); then
        tail -n 20 <<<"$output" >&2
        log "the Flink CLI failed (log: $flink_log_dir/flink-cli.log)"
        return 1
    fi
    job_id=$(sed -n 's/.*submitted with JobID \([0-9a-f]\{32\}\).*/\1/p;T;q' <<<"$output")
    if [ -z "$job_id" ]; then
        tail -n 20 <<<"$output" >&2
        log "the Flink CLI printed no job id (log: $flink_log_dir/flink-cli.log)"
        return 1
    fi
    # Submitted is not running yet: wait until every task is deployed and running, or the job ended.
    wait_until 120 0.5 job_running "$job_id" || rc=$?
    if [ "$rc" != 0 ]; then
        log "job $job_id is $(job_state "$job_id" || echo '?') $([ "$rc" = 2 ] || echo 'after 120 s, not running') (see $rest_url/#/job/$job_id and $flink_log_dir)"
        return 1
    fi
    log "job $job_id is running ($rest_url/#/job/running/$job_id)"
    echo "$job_id"
}

# Cancels the job; returns once it is CANCELED.
cancel_job() { # job_id
    curl -sf --max-time 10 -X PATCH "$rest_url/jobs/$1?mode=cancel" >/dev/null || return 1
    wait_until 60 0.5 job_in_state "$1" CANCELED || { log "job $1 is not CANCELED after 60 s: $(job_state "$1")"; return 1; }
}

# `flink stop --savepointPath DIR`: a savepoint, then the job stops (without draining). Prints the savepoint's
# path once the job is FINISHED.
stop_with_savepoint() { # job_id dir
    local output savepoint
    if ! output=$(flink_cli stop --savepointPath "file://$2" -D client.timeout=3min "$1" 2>&1); then
        tail -n 20 <<<"$output" >&2
        log "flink stop failed (log: $flink_log_dir/flink-cli.log)"
        return 1
    fi
    savepoint=$(sed -n 's/^Savepoint completed\. Path: //p' <<<"$output")
    [ -n "$savepoint" ] || { tail -n 20 <<<"$output" >&2; log "flink stop printed no savepoint path"; return 1; }
    wait_until 60 0.5 job_in_state "$1" FINISHED || { log "job $1 is not FINISHED 60 s after its savepoint: $(job_state "$1")"; return 1; }
    echo "$savepoint"
}
