# Sourced (not run) by every script in bin/ and e2e/, through bin/lib/kafka.sh, bin/lib/flink.sh and
# bin/lib/jobs.sh: where things live, the JVM options, logging, bounded waits, daemons by PID file, and
# building what the servers run on first use.
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this file

[ -n "${_qparams_common_sourced:-}" ] && return 0
_qparams_common_sourced=1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Data, logs and PID files of the local servers (.gitignore ignores /var/).
var_dir=${QPARAMS_VAR_DIR:-$root/var}
kafka_lib=$root/dist/target/kafka-lib
flink_lib=$root/dist/target/flink-lib
# Flink's plugins (each in its folder, loaded apart from lib): the Prometheus metrics reporter.
flink_plugins=$root/dist/target/flink-plugins
job_jar=$root/job/target/qparams-job.jar
# The one list of --add-opens/--add-modules every qparams JVM takes (a java @argfile).
java_opts=("@$root/conf/jvm.options")

log() { echo "$(basename "$0"): $*" >&2; }
die() { log "$*"; exit 1; }

# Runs `command...` every `interval` seconds until it returns 0 (the awaited event happened); returns 1 when
# `timeout` seconds pass first. A command's status other than 0 and 1 ends the wait at once with that status
# (the event can no longer happen: a process died, a job failed). The command is always tried once more at
# the deadline, so a slow poll never turns into a failure without a last look.
wait_until() { # timeout_s interval_s command...
    local deadline=$((SECONDS + $1)) interval=$2 rc
    shift 2
    while :; do
        "$@" && return 0 || rc=$?
        [ "$rc" = 1 ] || return "$rc"
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep "$interval"
    done
}

require_java17() {
    command -v java >/dev/null || die "no java on PATH (a JDK 17 is needed)"
    local version
    version=$(java -version 2>&1) || die "java -version failed: $version"
    [[ $version == *'version "17'* ]] || die "java is not Java 17: ${version%%$'\n'*}"
}

# Copies the broker's and the cluster's jars from Maven Central (dist/pom.xml) unless done since the poms last changed.
ensure_dist() {
    local stamp=$root/dist/target/.copied
    if [ -f "$stamp" ] && [ -z "$(find "$root/pom.xml" "$root/dist" -name pom.xml -newer "$stamp" -print -quit)" ]; then
        return
    fi
    command -v mvn >/dev/null || die "no mvn on PATH (Maven 3.8+ is needed to fetch the servers' jars)"
    log "fetching the Kafka broker's and the Flink cluster's jars (dist/pom.xml, first use) ..."
    rm -rf "$kafka_lib" "$flink_lib" "$flink_plugins"
    (cd "$root" && mvn -q -B -f dist/pom.xml package) >&2 || die "mvn -f dist/pom.xml package failed (see above)"
    touch "$stamp"
}

# job/target/qparams-job.jar, built when it is missing or older than the sources it holds.
ensure_job_jar() {
    if [ -f "$job_jar" ] && [ -z "$(find "$root/pom.xml" "$root"/{observers,connectors,job}/pom.xml \
        "$root"/{observers,connectors,job}/src/main -newer "$job_jar" -print -quit 2>/dev/null)" ]; then
        return
    fi
    command -v mvn >/dev/null || die "no mvn on PATH (Maven 3.8+ is needed to build the job jar)"
    log "building $job_jar (missing, or older than its sources) ..."
    (cd "$root" && mvn -q -B -DskipTests -pl job -am package) >&2 || die "building the job jar failed (see above)"
}

# The PID in a PID file, if that process still runs and its command line holds the marker (not a reused PID).
live_pid() { # pid_file marker
    local pid cmdline
    [ -f "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$2"* ]] || return 1
    echo "$pid"
}

# Starts `command...` as a daemon: detached from this shell (nohup, stdin from /dev/null, output appended to
# out_file), its PID in pid_file once it runs the command, and in $daemon_pid. A process started with
# `command &` is a copy of this shell until it has exec'd the command, and live_pid, which tells a daemon by
# its command line, would call it gone in that window: so the PID file is written only once the command
# line holds the marker. Fails (the process killed, no PID file) when it exits or does not exec within 30 s.
start_daemon() { # pid_file marker out_file command...
    local pid_file=$1 marker=$2 out=$3
    shift 3
    nohup "$@" >>"$out" 2>&1 </dev/null &
    daemon_pid=$!
    if ! wait_until 30 0.05 runs_command "$daemon_pid" "$marker"; then
        kill -KILL "$daemon_pid" 2>/dev/null
        return 1
    fi
    echo "$daemon_pid" >"$pid_file"
}

# 0 once process `pid` runs a command line that holds the marker; 2 when it is gone.
runs_command() { # pid marker
    pid_gone "$1" && return 2
    [[ $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) == *"$2"* ]]
}

# Gone: no such process, or a zombie that its parent or init reaps. (Not `[ -s /proc/PID/cmdline ]`: stat
# gives every /proc file size 0, so that test called every live process gone and nothing waited for an exit.)
pid_gone() { # pid
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) } # after the command name, which may hold spaces and parentheses
    [ "${stat%% *}" = Z ]
}

# TERM, then KILL after the timeout; returns once the process is gone and removes the PID file. Quiet when
# nothing runs.
stop_pid() { # pid_file marker name timeout_seconds
    local pid
    if ! pid=$(live_pid "$1" "$2"); then
        rm -f "$1"
        return 0
    fi
    log "stopping $3 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$4" 0.1 pid_gone "$pid"; then
        log "$3 (pid $pid) still running after $4 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_until 30 0.1 pid_gone "$pid" || die "$3 (pid $pid) survived kill -9 for 30 s"
    fi
    rm -f "$1"
}

# kill -9; returns once the process is gone and removes the PID file. Fails when it was not running.
kill_pid() { # pid_file marker name
    local pid
    pid=$(live_pid "$1" "$2") || { log "$3 is not running"; return 1; }
    kill -KILL "$pid" || return 1
    wait_until 30 0.1 pid_gone "$pid" || die "$3 (pid $pid) still there 30 s after kill -9"
    rm -f "$1"
    log "killed $3 (kill -9, pid $pid)"
}

port_in_use() { # port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The last lines of the given logs on stderr, for a daemon that did not come up.
show_logs() {
    local f
    for f in "$@"; do
        [ -s "$f" ] || continue
        echo "----- last lines of $f -----" >&2
        tail -n 30 "$f" >&2
    done
}
