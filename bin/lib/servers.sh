# Shared by bin/kafka-broker, bin/flink-cluster and bin/qparams-submit (sourced, not run): where things
# live, building the servers' classpaths on first use, and starting/stopping a daemon by its PID file.
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this file

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Data, logs and PID files of the local servers (.gitignore ignores /var/).
var_dir=${QPARAMS_VAR_DIR:-$root/var}
kafka_lib=$root/dist/target/kafka-lib
flink_lib=$root/dist/target/flink-lib
kafka_port=${QPARAMS_KAFKA_PORT:-9092}
kafka_controller_port=${QPARAMS_KAFKA_CONTROLLER_PORT:-$((kafka_port + 1))}
flink_rest_port=${QPARAMS_FLINK_REST_PORT:-8081}
flink_rpc_port=${QPARAMS_FLINK_RPC_PORT:-6123}

# What flink-dist passes to every Flink JVM on Java 17 (env.java.default-opts.all); the CLI needs them too.
flink_java_opts=(
    --add-exports=java.base/sun.net.util=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED
    --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.text=ALL-UNNAMED
    --add-opens=java.base/java.time=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
    --add-opens=java.sql/java.sql=ALL-UNNAMED
    # qparams: the fused float32 reduction reads NPY bytes with the incubating Vector API (JDK 17-19);
    # without the module the job falls back to the copying path (see BENCHMARKS.md).
    --add-modules=jdk.incubator.vector
)

log() { echo "$(basename "$0"): $*" >&2; }
die() { log "$*"; exit 1; }

require_java17() {
    command -v java >/dev/null || die "no java on PATH (a JDK 17 is needed)"
    java -version 2>&1 | grep -q 'version "17' || die "java is not Java 17: $(java -version 2>&1 | head -1)"
}

# Copies the broker's and the cluster's jars from Maven Central (dist/pom.xml) unless done since the poms last changed.
ensure_dist() {
    local stamp=$root/dist/target/.copied
    if [ -f "$stamp" ] && [ -z "$(find "$root/pom.xml" "$root/dist" -name pom.xml -newer "$stamp" -print -quit)" ]; then
        return
    fi
    command -v mvn >/dev/null || die "no mvn on PATH (Maven 3.8+ is needed to fetch the servers' jars)"
    log "fetching the Kafka broker's and the Flink cluster's jars (dist/pom.xml, first use) ..."
    rm -rf "$kafka_lib" "$flink_lib"
    (cd "$root" && mvn -q -B -f dist/pom.xml package) >&2 || die "mvn -f dist/pom.xml package failed (see above)"
    touch "$stamp"
}

# job/target/qparams-job.jar, built when it is missing or older than the sources it holds.
job_jar=$root/job/target/qparams-job.jar
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
    local pid
    [ -f "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2" || return 1
    echo "$pid"
}

# TERM, then KILL after the timeout; removes the PID file. Quiet when nothing runs.
stop_pid() { # pid_file marker name timeout_seconds
    local pid waited=0
    if ! pid=$(live_pid "$1" "$2"); then
        rm -f "$1"
        return 0
    fi
    log "stopping $3 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge "$(($4 * 10))" ]; then
            log "$3 (pid $pid) still running after $4 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    # A killed process is gone once its parent (the shell that started it, or init) reaped it.
    while kill -0 "$pid" 2>/dev/null && [ -r "/proc/$pid/cmdline" ] && [ -s "/proc/$pid/cmdline" ]; do sleep 0.1; done
    rm -f "$1"
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
