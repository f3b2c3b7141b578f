# bench/lib.sh: what bench/run and bench/ab share, sourced by both (not run by itself): the broker's
# place, the workloads' topics, and one qparams measurement (qparams_throughput) with its helpers.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the tables and settings here are read by the scripts that source this file

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
python=/usr/bin/python3
export QPARAMS_VAR_DIR=${BENCH_VAR_DIR:-$root/var/bench}
export QPARAMS_KAFKA_PORT=${BENCH_KAFKA_PORT:-19492}
export QPARAMS_KAFKA_CONTROLLER_PORT=$((QPARAMS_KAFKA_PORT + 1))
bootstrap=127.0.0.1:$QPARAMS_KAFKA_PORT
kafka_lib=$root/dist/target/kafka-lib # where bin/kafka-broker's first start puts the broker's jars
logs=$QPARAMS_VAR_DIR/logs
results=$QPARAMS_VAR_DIR/results.jsonl

# ---- the workloads ----
# Sizes: ~16 GiB in the four span workloads, so that on 2 cores the qparams runs and most others
# last 10 s or more (the first full run, on a busy machine: 13-62 s each; the broker consumer on the
# stats 3.6 s), about 20 minutes in all; the steady-* workloads add ~13 GiB and ~13 minutes.
# --quick: tiny topics.
all_workloads=(npy-1m npy-4k stats per-channel steady-4k steady-stats latency)
declare -A title=(
    [npy-1m]="1 MiB float32 NPY batches [256,1024]"
    [npy-4k]="4 KiB float32 NPY batches [1024]"
    [stats]="pre-reduced JSON stats {min, max}"
    [per-channel]="[64,1024] float32 per-channel, ch_axis 1 (256 KiB)"
    [steady-4k]="4 KiB float32 NPY batches [1024], steady state, p=1 vs p=2"
    [steady-stats]="pre-reduced JSON stats {min, max}, steady state, p=1 vs p=2"
    [latency]="latency at 1,000 records/s of 4 KiB batches"
    [large-state]="[4,1024] float32 per-channel, ch_axis 1, RocksDB: 100 vs 100,000 tensors"
)
declare -A kind=([npy-1m]=npy [npy-4k]=npy [stats]=stats [per-channel]=npy [steady-4k]=npy [steady-stats]=stats)
declare -A shape=([npy-1m]="256,1024" [npy-4k]=1024 [stats]="" [per-channel]="64,1024" [steady-4k]=1024 [steady-stats]="")
declare -A config=([npy-1m]=per-tensor [npy-4k]=per-tensor [stats]=per-tensor [per-channel]=per-channel
    [steady-4k]=per-tensor [steady-stats]=per-tensor)
declare -A observer=([per-tensor]=MovingAverageMinMaxObserver [per-channel]=MovingAveragePerChannelMinMaxObserver)
declare -A records_full=([npy-1m]=8192 [npy-4k]=1000000 [stats]=2000000 [per-channel]=16384
    [steady-4k]=3000000 [steady-stats]=10000000)
declare -A records_quick=([npy-1m]=200 [npy-4k]=20000 [stats]=50000 [per-channel]=800
    [steady-4k]=40000 [steady-stats]=100000)

# ---- helpers ----
started=$(date +%s)
run_id=$started # in the group ids, so that no run resumes an earlier one's offsets
profile=false   # bench/run --profile: each qparams run recorded by JFR (start_qparams, flame_graphs)
say() { echo "bench: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
pids=() # every process this script started and has not stopped yet
declare -A bytes_per_record # workload -> bytes a record (key + value), from its fill; record() turns rec/s into MiB/s

# Stops a process this script started: TERM, then KILL after the timeout. Waits until it is gone.
stop_process() { # pid timeout_seconds
    local waited=0
    kill -TERM "$1" 2>/dev/null || return 0
    while kill -0 "$1" 2>/dev/null; do
        if [ "$waited" -ge "$(($2 * 10))" ]; then
            say "pid $1 still running after $2 s: killing it"
            kill -KILL "$1" 2>/dev/null
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    wait "$1" 2>/dev/null
    forget_pid "$1"
}

forget_pid() { # pid
    local p keep=()
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}

cleanup() {
    trap - EXIT INT TERM
    local p
    for p in "${pids[@]}"; do stop_process "$p" 20; done
    "$root/bin/kafka-broker" stop
    say "done in $(($(date +%s) - started)) s (logs: $logs)"
}

# Runs a command in the background with its stdout to a file, and waits for it (interruptible by
# Ctrl-C, unlike a foreground child). Returns its status.
run_to() { # stdout_file command...
    local out=$1
    shift
    "$@" >"$out" 2>>"$logs/clients.log" &
    local pid=$!
    pids+=("$pid")
    wait "$pid"
    local rc=$?
    forget_pid "$pid"
    return "$rc"
}

# Appends one measurement to the results and prints it on stderr.
record() { # workload column repeat json
    local line
    line=$(jq -c --arg w "$1" --arg c "$2" --argjson r "$3" --argjson bpr "${bytes_per_record[$1]:-0}" \
        '{workload: $w, column: $c, repeat: $r} + . + (if .rec_s then {mib_s: (.rec_s * $bpr / 1048576)} else {} end)' \
        <<<"$4") || fail "$1 $2: unreadable result: $4"
    echo "$line" >>"$results"
    jq -r '"bench:   \(.workload) \(.column) #\(.repeat): " + (if .rec_s then
            "\(.rec_s | floor) rec/s, \(.mib_s * 10 | floor / 10) MiB/s (\(.records) records in \(.seconds * 10 | floor / 10) s)"
            + (if .steady_rec_s then ", steady \(.steady_rec_s | floor) rec/s" else "" end)
            + (if .cpu_us_per_record then ", \(.cpu_us_per_record | floor) µs CPU a record" else "" end)
            + (if .cpu_us_per_record_by_thread then " (" + ([.cpu_us_per_record_by_thread | to_entries[]
                | "\(.key) \(.value | floor)"] | join(", ")) + ")" else "" end)
            + (if .minor_faults_per_record then ", \(.minor_faults_per_record) page faults a record" else "" end)
        else "p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms (\(.records) records at \(.achieved_rate)/s)" end)' \
        <<<"$line" >&2
}


start_qparams() { # log_file qparams-run-flags...
    local log_file=$1 jfr=""
    shift
    $profile && jfr="-XX:StartFlightRecording=settings=profile,filename=${log_file%.log}.jfr,dumponexit=true \
-XX:FlightRecorderOptions=stackdepth=256 -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints"
    # bin/qparams' logging plus checkpoints and restarts (bench/conf/log4j2-qparams.properties).
    QPARAMS_JAVA_OPTS="-Dlog4j.configurationFile=$bench/conf/log4j2-qparams.properties $jfr ${QPARAMS_JAVA_OPTS:-}" \
        "$root/bin/qparams" run --bootstrap-servers "$bootstrap" --print none "$@" >"$log_file" 2>&1 </dev/null &
    qparams_pid=$!
    pids+=("$qparams_pid")
}

# One qparams measurement: a fresh output topic (LogAppendTime), group, DLQ and control topic.
qparams_throughput() { # workload repeat column input_topic records config qparams-run-flags...
    local w=$1 r=$2 c=$3 in=$4 n=$5 cfg=$6
    shift 6
    local out=$in.out-$c-$r log_file=$logs/qparams-$w-$c-$r.log written
    say "$w: qparams $c #$r ($n records) ..."
    "$python" "$bench/topics.py" create --bootstrap "$bootstrap" --topic "$out" --log-append-time ||
        fail "$w: creating $out failed"
    start_qparams "$log_file" --input-topic "$in" --output-topic "$out" --dlq-topic "$in.dlq-$c-$r" \
        --control-topic "$in.control-$c-$r" --group-id "bench-$w-$c-$r-$run_id" --starting-offsets earliest \
        --config "$bench/conf/$cfg.yaml" "$@"
    run_to "$logs/qparams-$w-$c-$r.count" "$python" "$bench/topics.py" wait --bootstrap "$bootstrap" \
        --topic "$out" --count "$n" --pid "$qparams_pid" --stall-seconds 180 --deadline-seconds 1800 ||
        { tail -n 20 "$log_file" >&2; fail "$w: qparams $c did not write $n records (log: $log_file)"; }
    stop_process "$qparams_pid" 30
    flame_graphs "$log_file" "$w-$c-$r" "$w, qparams $c, repeat $r"
    written=$(jq .records "$logs/qparams-$w-$c-$r.count")
    [ "$written" = "$n" ] || fail "$w: qparams $c wrote $written records for $n batches (restarted? log: $log_file)"
    local dead_letters
    dead_letters=$("$python" "$bench/topics.py" count --bootstrap "$bootstrap" --topic "$in.dlq-$c-$r")
    [ "$dead_letters" = 0 ] || fail "$w: qparams $c wrote $dead_letters dead letters (the workload is wrong)"
    run_to "$logs/qparams-$w-$c-$r.rate" "$python" "$bench/topics.py" rate --bootstrap "$bootstrap" \
        --topic "$out" --count "$n" --observer "${observer[$cfg]}" || fail "$w: reading $out failed"
    written=$(jq .records "$logs/qparams-$w-$c-$r.rate")
    [ "$written" = "$n" ] || fail "$w: qparams $c wrote $written records for $n batches (restarted? log: $log_file)"
    record "$w" "$c" "$r" "$(jq -c -s '.[0] + (.[1] | {cpu_us_per_record, cpu_us_per_record_by_thread, minor_faults_per_record}) + .[2]' "$logs/qparams-$w-$c-$r.rate" \
        "$logs/qparams-$w-$c-$r.count" <(checkpoint_stats "$log_file"))"
}

# The checkpoints a qparams run completed, from the CheckpointCoordinator's log lines ("Completed
# checkpoint 3 for job 0f.. (1234 bytes, checkpointDuration=56 ms, finalizationTime=0 ms)."):
# how many, and the last one's size and duration, the largest duration, as JSON.
checkpoint_stats() { # log_file
    sed -n 's/.*Completed checkpoint \([0-9]*\) for job [0-9a-f]* (\([0-9]*\) bytes, checkpointDuration=\([0-9]*\) ms.*/\1 \2 \3/p' "$1" |
        jq -R -s 'split("\n") | map(select(length > 0) | split(" ") | map(tonumber)) |
            {checkpoints: length}
            + (if length > 0 then {checkpoint_bytes: .[-1][1], checkpoint_ms: .[-1][2],
                                   checkpoint_max_ms: (map(.[2]) | max)} else {} end)'
}

# --profile: the run's CPU and allocation flame graphs and their summary, from its JFR recording.
flame_graphs() { # log_file name title
    $profile || return 0
    local jfr=${1%.log}.jfr dir=$QPARAMS_VAR_DIR/profiles/$2
    [ -s "$jfr" ] || { say "no JFR recording at $jfr (the run did not exit cleanly?)"; return 0; }
    mkdir -p "$dir"
    if "$python" "$bench/flame.py" --jfr "$jfr" --out-dir "$dir" --title "$3" >"$dir/summary.md" 2>>"$logs/clients.log"; then
        say "  profile: $dir (cpu.svg, alloc.svg, summary.md)"
    else
        say "  profile of $2 failed (see $logs/clients.log)"
    fi
}

# A fresh broker place and a running broker: refuses a BENCH_VAR_DIR it did not make, wipes the place,
# builds bin/qparams if needed, starts the broker; cleanup (on exit) stops what was started.
# var/bench is these scripts'; a folder BENCH_VAR_DIR names is wiped only when one of them made it
# (it carries a .bench marker) or it is empty, never one named by mistake.
start_bench() { # script name, for the refusal
    if [ -n "${BENCH_VAR_DIR:-}" ] && [ -e "$QPARAMS_VAR_DIR" ] && [ ! -e "$QPARAMS_VAR_DIR/.bench" ] &&
        [ -n "$(ls -A "$QPARAMS_VAR_DIR")" ]; then
        echo "$1: $QPARAMS_VAR_DIR is not empty and was not made by bench/run or bench/ab: set BENCH_VAR_DIR to a new folder" >&2
        exit 1
    fi
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    "$root/bin/kafka-broker" stop # a broker left behind by an interrupted earlier run
    rm -rf "$QPARAMS_VAR_DIR"
    mkdir -p "$logs"
    touch "$QPARAMS_VAR_DIR/.bench"
    : >"$results"
    say "building bin/qparams if needed (first use) ..."
    run_to /dev/null "$root/bin/qparams" run --help ||
        { tail -n 30 "$logs/clients.log" >&2; fail "bin/qparams does not build"; }
    "$root/bin/kafka-broker" start || fail "the broker did not start"
}
