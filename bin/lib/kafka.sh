# Sourced (not run): the single-node KRaft Kafka broker of bin/kafka-broker (broker + controller in one
# process on 127.0.0.1), for bin/kafka-broker and the e2e tests.
#
#   QPARAMS_KAFKA_PORT             client port (default 9092)
#   QPARAMS_KAFKA_CONTROLLER_PORT  controller port (default client port + 1)
#   QPARAMS_VAR_DIR                data, logs and PID file go to <dir>/kafka (default var/ at the repo root)
#   QPARAMS_KAFKA_HEAP             JVM heap (default -Xmx512m)
# shellcheck shell=bash
# shellcheck source=bin/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kafka_port=${QPARAMS_KAFKA_PORT:-9092}
kafka_controller_port=${QPARAMS_KAFKA_CONTROLLER_PORT:-$((kafka_port + 1))}
kafka_dir=$var_dir/kafka
kafka_data_dir=$kafka_dir/data
kafka_logs_dir=$kafka_dir/logs
kafka_pid_file=$kafka_dir/kafka.pid
kafka_properties=$kafka_dir/server.properties
kafka_marker=kafka.Kafka

kafka_java() {
    java "${java_opts[@]}" -Dkafka.logs.dir="$kafka_logs_dir" \
        -Dlog4j2.configurationFile="$root/conf/kafka/log4j2.properties" -cp "$kafka_lib/*" "$@"
}

# conf/kafka/server.properties with this run's ports and folders appended (in a properties file the last key wins).
kafka_write_properties() {
    cat "$root/conf/kafka/server.properties" - >"$kafka_properties" <<PROPS

# ---- appended by bin/lib/kafka.sh ----
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$kafka_controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.quorum.bootstrap.servers=127.0.0.1:$kafka_controller_port
log.dirs=$kafka_data_dir
PROPS
}

# Formats the log directory once. A standalone controller's voter set records its port, so a formatted
# directory only serves the controller port it was formatted for.
kafka_format_once() {
    local formatted_for=$kafka_dir/formatted-controller-port cluster_id
    if [ -f "$kafka_data_dir/meta.properties" ]; then
        if [ "$(cat "$formatted_for" 2>/dev/null)" != "$kafka_controller_port" ]; then
            die "$kafka_data_dir was formatted for controller port $(cat "$formatted_for" 2>/dev/null || echo '?'), not $kafka_controller_port: delete $kafka_dir to start afresh"
        fi
        return
    fi
    cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$kafka_logs_dir/format.log" | tail -n 1)
    log "formatting $kafka_data_dir (cluster id $cluster_id)"
    kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$kafka_properties" \
        >>"$kafka_logs_dir/format.log" 2>&1 || { show_logs "$kafka_logs_dir/format.log"; die "formatting $kafka_data_dir failed"; }
    echo "$kafka_controller_port" >"$formatted_for"
}

# Ready: this start's part of server.log (from byte `from`) says so. 2 when the process died. (grep -c reads
# to the end: a grep -q that stops early would kill tail with SIGPIPE, a failed pipeline under pipefail.)
kafka_started() { # pid from
    kill -0 "$1" 2>/dev/null || return 2
    local log_file=$kafka_logs_dir/server.log from=$2
    [ -f "$log_file" ] || return 1
    # A log that rolled over since the start is read from its beginning.
    [ "$(wc -c <"$log_file")" -ge "$from" ] || from=1
    [ "$(tail -c "+$from" "$log_file" | grep -c "Kafka Server started")" -gt 0 ]
}

kafka_start() {
    local pid port log_start=1 rc=0
    if pid=$(live_pid "$kafka_pid_file" "$kafka_marker"); then
        log "already running (pid $pid, 127.0.0.1:$kafka_port)"
        return 0
    fi
    require_java17
    ensure_dist
    for port in "$kafka_port" "$kafka_controller_port"; do
        port_in_use "$port" && die "port $port is in use (set QPARAMS_KAFKA_PORT / QPARAMS_KAFKA_CONTROLLER_PORT)"
    done
    mkdir -p "$kafka_data_dir" "$kafka_logs_dir"
    kafka_write_properties
    kafka_format_once

    [ -f "$kafka_logs_dir/server.log" ] && log_start=$(($(wc -c <"$kafka_logs_dir/server.log") + 1))
    # shellcheck disable=SC2086 # QPARAMS_KAFKA_HEAP is a list of JVM options
    start_daemon "$kafka_pid_file" "$kafka_marker" "$kafka_logs_dir/kafka.out" \
        java ${QPARAMS_KAFKA_HEAP:--Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        "${java_opts[@]}" -Dkafka.logs.dir="$kafka_logs_dir" \
        -Dlog4j2.configurationFile="$root/conf/kafka/log4j2.properties" \
        -cp "$kafka_lib/*" kafka.Kafka "$kafka_properties" || {
        show_logs "$kafka_logs_dir/kafka.out"
        die "the broker exited as it started (logs: $kafka_logs_dir)"
    }
    pid=$daemon_pid
    wait_until 60 0.1 kafka_started "$pid" "$log_start" || rc=$?
    if [ "$rc" != 0 ]; then
        show_logs "$kafka_logs_dir/kafka.out" "$kafka_logs_dir/server.log"
        stop_pid "$kafka_pid_file" "$kafka_marker" broker 10
        [ "$rc" = 2 ] && die "the broker exited while starting (logs: $kafka_logs_dir)"
        die "the broker did not start within 60 s (logs: $kafka_logs_dir)"
    fi
    log "started (pid $pid, bootstrap servers 127.0.0.1:$kafka_port, logs $kafka_logs_dir)"
}

kafka_stop() { stop_pid "$kafka_pid_file" "$kafka_marker" "the broker" 30; }

kafka_kill() { kill_pid "$kafka_pid_file" "$kafka_marker" "the broker"; }

kafka_status() {
    local pid
    if pid=$(live_pid "$kafka_pid_file" "$kafka_marker"); then
        echo "kafka broker running (pid $pid, 127.0.0.1:$kafka_port)"
    else
        echo "kafka broker not running"
        return 3
    fi
}
