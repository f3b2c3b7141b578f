# Sourced by e2e/run-faults.sh after e2e/lib/harness.sh: what only the fault tests need. The streamed
# producer in the background, the progress of the output topics (read_committed), and the waits for a
# job's recovery after a fault. Every wait is wait_until on the event itself, with a deadline.
#
# Uses the test's $python, $bootstrap, $rate and $tensors, and $work for the producer's progress file.
# shellcheck shell=bash disable=SC2154 # the variables above come from the test

faults_py=$root/e2e/faults/faults.py
producer_pid=

# ---- the producer: e2e/faults/faults.py produce, in the background ----

start_producer() { # topic first_round rounds [produce flags...]
    "$python" "$faults_py" produce --bootstrap-servers "$bootstrap" --topic "$1" --first-round "$2" \
        --rounds "$3" --rate "$rate" --progress "$work/producer.progress" "${@:4}" &
    producer_pid=$!
}
wait_producer() { # -> the producer's exit status
    local rc=0
    wait "$producer_pid" || rc=$?
    producer_pid=
    return "$rc"
}
harness_cleanup() { # (called by the harness on exit) stops the producer if it still runs
    if [ -n "$producer_pid" ] && kill -0 "$producer_pid" 2>/dev/null; then
        kill -TERM "$producer_pid" 2>/dev/null
        wait "$producer_pid" 2>/dev/null
    fi
    producer_pid=
}
streaming() { # prints yes while the producer runs
    if [ -n "$producer_pid" ] && kill -0 "$producer_pid" 2>/dev/null; then echo yes; else echo no; fi
}
# Rounds handed to the producer's client (absolute round count). The producer replaces its progress file
# atomically (write, then rename), so a read never sees a half-written line.
rounds_sent() {
    local line
    line=$(cat "$work/producer.progress" 2>/dev/null) || line=0
    line=${line%% *}
    echo "${line:-0}"
}
rounds_sent_reached() { # n: 0 once the producer handed round n to its client; 2 when it exited before
    [ "$(rounds_sent)" -ge "$1" ] && return 0
    [ "$(streaming)" = yes ] || return 2
    return 1
}
wait_rounds_sent() { # n: returns once the producer got that far (nonzero when it exited first)
    wait_until 900 0.2 rounds_sent_reached "$1"
}

# ---- the output topics, read_committed ----

# "<records> <min over tensors of the last batches> <tensors>" of an output topic.
output_progress() { # topic
    "$python" "$faults_py" progress --bootstrap-servers "$bootstrap" --topic "$1" 2>/dev/null || echo "0 0 0"
}
output_reached() { # topic batches: 0 once every tensor's output reached `batches`
    local low seen
    read -r _ low seen <<<"$(output_progress "$1")"
    [ "$seen" = "$tensors" ] && [ "$low" -ge "$2" ]
}
wait_batches() { # topic batches timeout_s
    wait_until "$3" 1 output_reached "$1" "$2" && return 0
    say "$1: output is at '$(output_progress "$1")' (records, min last batches, tensors) after $3 s"
    return 1
}

# ---- jobs under faults ----

restarts_above() { # job_id n: 0 once the job's numRestarts is above n
    [ "$(job_restarts "$1")" -gt "$2" ]
}
runs_on() { # subtasks taskmanager_id: 0 when one of the subtasks (job_subtasks JSON) runs there
    jq -e --arg taskmanager "$2" 'any(.[]; .taskmanager == $taskmanager)' <<<"$1" >/dev/null
}
taskmanager_dropped() { # taskmanager_id: 0 once the ResourceManager no longer lists it
    local ids
    ids=$(flink_taskmanager_ids) || return 1
    ! grep -qxF "$1" <<<"$ids"
}
# 0 once every subtask of the job runs a newer attempt than in `before` and is RUNNING: the job failed over
# after the fault and all of it runs again. 1 not yet; 2 when the job ended. (The REST API caches a job's
# view for a few seconds: a stale view shows the old attempts, so it never passes for a recovered one.)
job_recovered() { # job_id subtasks_before
    local now
    case "$(job_state "$1")" in FAILED | CANCELED | FINISHED) return 2 ;; esac
    now=$(job_subtasks "$1") || return 1
    jq -e --argjson before "$2" '($before | map({key: "\(.vertex)/\(.subtask)", value: .attempt}) | from_entries) as $old
        | length > 0 and all(.[]; .status == "RUNNING" and .attempt > ($old["\(.vertex)/\(.subtask)"] // -1))' \
        <<<"$now" >/dev/null
}
# One check: the job restarted after the fault (numRestarts above `restarts_before`) and every task runs
# again on a new attempt. Both are waited for, with deadlines; neither is a single sample.
check_recovered() { # label job_id restarts_before subtasks_before
    local restarted=no recovered=no
    wait_until 180 1 restarts_above "$2" "$3" && restarted=yes
    wait_until 180 1 job_recovered "$2" "$4" && recovered=yes
    check "$1 restarted (numRestarts $3 -> $(job_restarts "$2")) and RUNNING again, every task on a new attempt" \
        test "$restarted/$recovered" = yes/yes
}
