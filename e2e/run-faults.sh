#!/usr/bin/env bash
# Fault tests on real servers (issue "Reliability: exactly-once observer state across failures"): a
# Kafka broker process and a Flink standalone cluster (JobManager + 2 TaskManagers), the qparams job
# submitted with the Flink CLI, a deterministic input log of 30 tensors streamed by
# e2e/faults/faults.py while failures happen, and every output record compared with a failure-free
# reference run.
#
#   Phase 1  B (exactly-once, output faults.qparams.b) and C (at-least-once, faults.qparams.c) run side by
#            side while rounds (a round = one batch of each of the 30 tensors) are streamed at 3 a second;
#            meanwhile, at random points, 3 times a random TaskManager is kill -9'd and restarted, then the
#            broker is kill -9'd and started again on the same data folder. The stream lasts until all of
#            that is over (at least 300 rounds). Both jobs must come back to RUNNING each time and reach
#            the last round.
#   Phase 2  60 more rounds are streamed; mid-stream B is stopped with a savepoint (REST, drain false),
#            a new job jar is made, and B is resubmitted from the savepoint with it.
#   Phase 3  A (the reference: exactly-once, fresh group, no failure) reads the whole log.
#   Checks   (e2e/faults/faults.py check, read_committed): A and B run 1..R per tensor with no gap and no
#            repeat; every B record is byte-identical to A's for the same (tensor, batches); B continues
#            at N+1 after the savepoint; C lost nothing, its duplicates equal the first record of the same
#            source offset, and every C record (so its last) equals A's; no dead letters.
#
# Runs on its own ports and folder (var/faults, wiped first); stops everything it started, by PID, on
# any exit. The last line is "N passed, M failed"; the exit status is nonzero when anything failed.
#
#   FAULTS_SEED     the seed of the fault schedule (which TaskManager, when; default: random, printed)
#   FAULTS_RATE     rounds (30 batches) a second the producer streams (default 3)
#   FAULTS_REBUILD  1: phase 2's new jar is built with `mvn -q -DskipTests -pl job -am package` (writes
#                   job/target); default: the jar copied and re-stamped (new file, new checksum, same classes)
#   FAULTS_BROKER_KILL  1 (default): the broker is kill -9'd; 0: stopped cleanly with bin/kafka-broker stop
#   FAULTS_STATE_BACKEND  hashmap|rocksdb: passed as --state-backend (when the job knows that flag)
#   FAULTS_JOB_JAR  test this jar instead of job/target/qparams-job.jar (built when older than its sources)
#   FAULTS_KAFKA_PORT, FAULTS_FLINK_REST_PORT, FAULTS_FLINK_RPC_PORT  ports (29092 and 29093, 28081, 26123)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
export QPARAMS_VAR_DIR=$root/var/faults
export QPARAMS_KAFKA_PORT=${FAULTS_KAFKA_PORT:-29092}
export QPARAMS_KAFKA_CONTROLLER_PORT=$((QPARAMS_KAFKA_PORT + 1))
export QPARAMS_FLINK_REST_PORT=${FAULTS_FLINK_REST_PORT:-28081}
export QPARAMS_FLINK_RPC_PORT=${FAULTS_FLINK_RPC_PORT:-26123}
# shellcheck source=e2e/faults/cluster.sh
source "$root/e2e/faults/cluster.sh"

python=/usr/bin/python3
faults_py=$root/e2e/faults/faults.py
config=$root/e2e/faults/observers.yaml
bootstrap=127.0.0.1:$QPARAMS_KAFKA_PORT
work=$QPARAMS_VAR_DIR
input=faults.activations
out_a=faults.qparams.a
out_b=faults.qparams.b
out_c=faults.qparams.c
dlq=faults.dlq
control=faults.control
rounds1=300 # phase 1: at least (the stream lasts until the faults are over)
rounds2=60  # phase 2
tensors=30
rate=${FAULTS_RATE:-3}
seed=${FAULTS_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((seed % 32768))
started=$(date +%s)
passed=0
failed=0
producer_pid=

say() { echo "faults [$(($(date +%s) - started))s]: $*" >&2; }
result() { # ok|fail name
    if [ "$1" = ok ]; then
        passed=$((passed + 1))
        say "ok   $2"
    else
        failed=$((failed + 1))
        say "FAIL $2"
    fi
}
check() { # name command...
    local name=$1
    shift
    if "$@"; then result ok "$name"; else result fail "$name"; fi
}
stop_all() {
    if [ -n "$producer_pid" ] && kill -0 "$producer_pid" 2>/dev/null; then
        kill -TERM "$producer_pid" 2>/dev/null
        wait "$producer_pid" 2>/dev/null
    fi
    producer_pid=
    cluster_stop
    bin/kafka-broker stop
}
show_failures() {
    local f
    for f in "$flink_log_dir"/jobmanager.log "$flink_log_dir"/taskmanager-*.log; do
        [ -f "$f" ] && grep -m 3 -B 1 -A 6 -E "^[0-9-]+ [0-9:,]+ (ERROR|WARN) .*(Exception|failed)" "$f" >&2
    done
}
finish() {
    trap - EXIT
    [ "$failed" = 0 ] || show_failures
    stop_all # before the closing line, which must come last
    say "done in $(($(date +%s) - started)) s (fault schedule seed $seed; logs: $work)"
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ] && exit 0 || exit 1
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# The producer's progress: rounds handed to the client (absolute round count).
rounds_sent() { cut -d' ' -f1 "$work/producer.progress" 2>/dev/null || echo 0; }
# "<records> <min over tensors of the last batches> <tensors>" of an output topic, read_committed.
output_progress() { "$python" "$faults_py" progress --bootstrap-servers "$bootstrap" --topic "$1" 2>/dev/null || echo "0 0 0"; }
wait_batches() { # topic batches timeout_s: every tensor's committed output reached `batches`
    local deadline=$(($(date +%s) + $3)) p
    while [ "$(date +%s)" -lt "$deadline" ]; do
        p=$(output_progress "$1")
        if [ "$(cut -d' ' -f3 <<<"$p")" = "$tensors" ] && [ "$(cut -d' ' -f2 <<<"$p")" -ge "$2" ]; then return 0; fi
        sleep 1
    done
    say "$1: committed output is at '$p' (records, min last batches, tensors) after $3 s"
    return 1
}
start_producer() { # first_round rounds [produce flags...]
    "$python" "$faults_py" produce --bootstrap-servers "$bootstrap" --topic "$input" --first-round "$1" \
        --rounds "$2" --rate "$rate" --progress "$work/producer.progress" "${@:3}" &
    producer_pid=$!
}
wait_producer() {
    wait "$producer_pid"
    local rc=$?
    producer_pid=
    return $rc
}
streaming() { # prints yes while the producer runs
    if [ -n "$producer_pid" ] && kill -0 "$producer_pid" 2>/dev/null; then echo yes; else echo no; fi
}
wait_rounds_sent() { # rounds: returns when the producer got that far (or exited)
    while [ "$(rounds_sent)" -lt "$1" ] && kill -0 "$producer_pid" 2>/dev/null; do sleep 0.2; done
}
job_flags() { # group output delivery
    local flags=(--bootstrap-servers "$bootstrap" --config "$config" --input-topic "$input" --output-topic "$2"
        --dlq-topic "$dlq" --control-topic "$control" --group-id "$1" --delivery "$3" --checkpoint-interval 1s)
    [ -n "${FAULTS_STATE_BACKEND:-}" ] && flags+=(--state-backend "$FAULTS_STATE_BACKEND")
    printf '%s\n' "${flags[@]}"
}

# ---- prerequisites (installs nothing) ----
missing=()
for module in numpy confluent_kafka; do
    "$python" -c "import $module" 2>/dev/null || missing+=("python module $module (apt-get install python3-${module/_/-})")
done
for tool in curl jq java mvn jar; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
    for m in "${missing[@]}"; do say "missing: $m"; done
    result fail "prerequisites present"
    finish
fi
result ok "prerequisites present"
if [ -n "${FAULTS_STATE_BACKEND:-}" ] && ! grep -q state-backend job/src/main/java/io/qparams/job/JobOptions.java; then
    say "FAULTS_STATE_BACKEND is set but the job has no --state-backend flag"
    result fail "--state-backend $FAULTS_STATE_BACKEND supported"
    finish
fi
say "fault schedule seed $seed (FAULTS_SEED=$seed reproduces which TaskManager is killed when)"

# ---- servers ----
if [ -n "${FAULTS_JOB_JAR:-}" ]; then
    job_jar=$FAULTS_JOB_JAR
    check "job jar given ($job_jar)" test -f "$job_jar"
    [ -f "$job_jar" ] || finish
else
    (ensure_job_jar) || { result fail "job jar builds"; finish; }
fi
(ensure_dist) || { result fail "servers' jars fetched (dist/pom.xml)"; finish; }
cluster_stop 2>/dev/null
bin/kafka-broker stop 2>/dev/null
rm -rf "$work"
mkdir -p "$work/jars" "$work/savepoints"
# The jar is copied: a rebuild of job/target by someone else during the run changes nothing here.
jar_v1=$work/jars/qparams-job-v1.jar
cp "$job_jar" "$jar_v1"
bin/kafka-broker start &
broker_start=$!
cluster_start 2
cluster_ok=$?
wait "$broker_start"
broker_ok=$?
check "Kafka broker started (127.0.0.1:$QPARAMS_KAFKA_PORT)" test "$broker_ok" = 0
check "Flink cluster started: JobManager + 2 TaskManagers registered ($rest_url)" test "$cluster_ok" = 0
if [ "$broker_ok" != 0 ] || [ "$cluster_ok" != 0 ]; then finish; fi
"$python" "$faults_py" create-topic --bootstrap-servers "$bootstrap" --topic "$input" --partitions 4
check "input topic $input created (4 partitions)" test $? = 0

# ==== phase 1: B (exactly-once) and C (at-least-once) under 3 TaskManager kills and a broker restart ====
mapfile -t flags_b < <(job_flags faults-b "$out_b" exactly-once)
mapfile -t flags_c < <(job_flags faults-c "$out_c" at-least-once)
# Both submitted at once (each Flink CLI is a JVM start, a jar upload and a deployment: slow on a busy machine).
submit_job "$jar_v1" "${flags_b[@]}" >"$work/job-b.id" &
submit_b=$!
submit_job "$jar_v1" "${flags_c[@]}" >"$work/job-c.id"
wait "$submit_b"
job_b=$(cat "$work/job-b.id")
job_c=$(cat "$work/job-c.id")
check "B submitted (exactly-once, checkpoints every 1 s) and running (${job_b:-no job id})" test -n "$job_b"
check "C submitted (at-least-once, checkpoints every 1 s) and running (${job_c:-no job id})" test -n "$job_c"
if [ -z "$job_b" ] || [ -z "$job_c" ]; then finish; fi

# The stream goes on (at least $rounds1 rounds) until every fault below is done and recovered from, however
# long recovery takes on this machine: each fault hits a job that is reading a live stream.
say "streaming at least $rounds1 rounds of $tensors tensors at $rate rounds/s into $input, faults meanwhile ..."
start_producer 0 "$rounds1" --stop-file "$work/stop-stream"
next_fault=$((15 + RANDOM % 30))
for k in 1 2 3; do
    wait_rounds_sent "$next_fault"
    tm=$((1 + RANDOM % 2))
    restart_delay=$((RANDOM % 3))
    restarts_b=$(job_restarts "$job_b")
    restarts_c=$(job_restarts "$job_c")
    ids_before=$(taskmanager_ids)
    at_round=$(rounds_sent)
    b_at=$(output_progress "$out_b" | cut -d' ' -f1)
    killed=$(tm_kill "$tm")
    live=$(streaming)
    check "kill $k: kill -9 TaskManager $tm (pid ${killed:-none}) mid-stream at round $at_round sent, $b_at B records committed" \
        test -n "$killed" -a "$live" = yes
    sleep "$restart_delay"
    tm_start "$tm" >/dev/null
    # Recovered: one of the two old TaskManager ids dropped (the JobManager noticed the loss) and two registered.
    dropped=0
    for _ in $(seq 1 120); do
        if [ "$(comm -12 <(echo "$ids_before") <(taskmanager_ids) | grep -c .)" -le 1 ] \
            && [ "$(taskmanager_ids | grep -c .)" -ge 2 ]; then dropped=1; break; fi
        sleep 0.5
    done
    check "kill $k: the lost TaskManager dropped and its restart (after ${restart_delay}s) registered" test "$dropped" = 1
    for job in b c; do
        job_id=job_$job restarts_before=restarts_$job
        wait_job_running "${!job_id}" 120
        running=$?
        restarts_after=$(job_restarts "${!job_id}")
        check "kill $k: ${job^^} restarted (numRestarts ${!restarts_before} -> $restarts_after) and RUNNING again" \
            test "$running" = 0 -a "$restarts_after" -gt "${!restarts_before}"
    done
    next_fault=$(($(rounds_sent) + 3 + RANDOM % 20))
done

wait_rounds_sent "$next_fault"
at_round=$(rounds_sent)
b_at=$(output_progress "$out_b" | cut -d' ' -f1)
restarts_b=$(job_restarts "$job_b")
restarts_c=$(job_restarts "$job_c")
if [ "${FAULTS_BROKER_KILL:-1}" = 1 ]; then
    broker_pid=$(live_pid "$var_dir/kafka/kafka.pid" kafka.Kafka) && kill -KILL "$broker_pid"
    stopped=$?
    while [ -n "${broker_pid:-}" ] && [ -s "/proc/$broker_pid/cmdline" ]; do sleep 0.1; done
    how="kill -9'd"
else
    bin/kafka-broker stop
    stopped=$?
    how="stopped"
fi
sleep 2
bin/kafka-broker start
restarted=$?
live=$(streaming)
check "broker restart: $how and started again on the same data folder mid-stream (round $at_round sent, $b_at B records committed; stream at round $(rounds_sent))" \
    test "$stopped" = 0 -a "$restarted" = 0 -a "$live" = yes
sleep 3 # whatever the broker restart disturbs shows up as a restart within a few seconds
for job in b c; do
    job_id=job_$job restarts_before=restarts_$job
    wait_job_running "${!job_id}" 120
    running=$?
    check "broker restart: ${job^^} RUNNING (numRestarts ${!restarts_before} -> $(job_restarts "${!job_id}"))" test "$running" = 0
done
# Let the jobs read some more of the live stream after the restart, then end it.
wait_rounds_sent "$(($(rounds_sent) + 15))"
touch "$work/stop-stream"
wait_producer
producer_rc=$?
rounds1=$(rounds_sent)
total_rounds=$((rounds1 + rounds2))
check "producer streamed $rounds1 rounds ($((rounds1 * tensors)) batches) through all of it, every one acknowledged" \
    test "$producer_rc" = 0 -a "$rounds1" -ge 300
wait_batches "$out_b" "$rounds1" 180
check "B: every tensor's committed output reached batches=$rounds1" test $? = 0
wait_batches "$out_c" "$rounds1" 120
check "C: every tensor's output reached batches=$rounds1" test $? = 0
cancel_job "$job_c"
check "C cancelled" test $? = 0

# ==== phase 2: stop B with a savepoint mid-stream, resume it from the savepoint with a new jar ====
jar_v2=$work/jars/qparams-job-v2.jar
if [ "${FAULTS_REBUILD:-0}" = 1 ]; then
    say "rebuilding the job jar (mvn -q -DskipTests -pl job -am package) ..."
    touch "$work/rebuild.stamp"
    (mvn -q -B -DskipTests -pl job -am package) >"$work/rebuild.log" 2>&1 && cp "$root/job/target/qparams-job.jar" "$jar_v2"
    rebuilt=$?
    check "job jar rebuilt with mvn package (log $work/rebuild.log)" \
        test "$rebuilt" = 0 -a "$root/job/target/qparams-job.jar" -nt "$work/rebuild.stamp"
else
    # A new jar file: the same classes, plus an entry that makes its bytes and checksum differ.
    cp "$jar_v1" "$jar_v2" && mkdir -p "$work/stamp/META-INF" \
        && echo "re-stamped by e2e/run-faults.sh at $(date -u +%FT%TZ)" >"$work/stamp/META-INF/qparams-faults-v2.txt" \
        && jar uf "$jar_v2" -C "$work/stamp" META-INF/qparams-faults-v2.txt
    check "new job jar made (copy of v1 re-stamped; FAULTS_REBUILD=1 rebuilds with mvn)" test $? = 0
fi
sum_v1=$(sha256sum "$jar_v1" | cut -c1-12)
sum_v2=$(sha256sum "$jar_v2" 2>/dev/null | cut -c1-12)
if [ "${FAULTS_REBUILD:-0}" = 1 ]; then
    # The build is reproducible: unchanged sources give the same bytes, so what is checked is that
    # B resumes on a jar file built after the stop-and-rebuild step, not on the one it ran.
    check "the new jar is a freshly built file ($jar_v2, sha256 $sum_v2...; B ran $jar_v1, $sum_v1...)" \
        test -n "$sum_v2" -a "$jar_v2" -nt "$work/rebuild.stamp"
else
    check "the new jar is another file ($jar_v2, sha256 $sum_v2...) than the one B ran ($jar_v1, $sum_v1...)" \
        test -n "$sum_v2" -a "$sum_v1" != "$sum_v2"
fi

say "streaming rounds $rounds1..$((total_rounds - 1)) ..."
start_producer "$rounds1" "$rounds2"
wait_rounds_sent "$((rounds1 + 10 + RANDOM % 15))"
at_round=$(rounds_sent)
savepoint=$(stop_with_savepoint "$job_b" "$work/savepoints")
for _ in $(seq 1 40); do [ "$(job_state "$job_b")" = FINISHED ] && break; sleep 0.5; done
check "B stopped with a savepoint at round $at_round, job FINISHED ($savepoint)" test -n "$savepoint" -a "$(job_state "$job_b")" = FINISHED
[ -n "$savepoint" ] || finish
"$python" "$faults_py" end-offsets --bootstrap-servers "$bootstrap" --topic "$out_b" >"$work/b-stop-offsets.json"
check "B's output end offsets at the stop recorded ($(cat "$work/b-stop-offsets.json"))" test -s "$work/b-stop-offsets.json"
job_b2=$(submit_job "$jar_v2" -s "$savepoint" "${flags_b[@]}")
check "B resubmitted from the savepoint with the new jar and running (${job_b2:-no job id})" test -n "$job_b2"
[ -n "$job_b2" ] || finish
restored=$(curl -sf "$rest_url/jobs/$job_b2/checkpoints" | jq -r '.latest.restored.external_path // empty')
check "B's new job restored the savepoint (REST: latest.restored = ${restored:-none})" \
    test -n "$restored" -a "${restored#file:}" = "${savepoint#file:}"
wait_producer
check "producer streamed $rounds2 more rounds" test $? = 0
wait_batches "$out_b" "$total_rounds" 120
check "B: every tensor's committed output reached batches=$total_rounds" test $? = 0
cancel_job "$job_b2"
check "B cancelled" test $? = 0

# ==== phase 3: A, the reference: the whole log, exactly-once, no failure ====
mapfile -t flags_a < <(job_flags faults-a "$out_a" exactly-once)
job_a=$(submit_job "$jar_v1" "${flags_a[@]}")
check "A submitted (exactly-once, fresh group) and running (${job_a:-no job id})" test -n "$job_a"
[ -n "$job_a" ] || finish
wait_batches "$out_a" "$total_rounds" 180
check "A: every tensor's committed output reached batches=$total_rounds" test $? = 0
a_restarts=$(job_restarts "$job_a")
check "A ran without a failure (numRestarts $a_restarts)" test "$a_restarts" = 0
cancel_job "$job_a"
check "A cancelled" test $? = 0

# ==== checks, record by record ====
check_out=$("$python" "$faults_py" check --bootstrap-servers "$bootstrap" --input "$input" --ref "$out_a" \
    --eo "$out_b" --alo "$out_c" --rounds "$total_rounds" --alo-rounds "$rounds1" \
    --stop-offsets "$work/b-stop-offsets.json" --dlq "$dlq")
check_rc=$?
while read -r line; do
    case "$line" in
        "ok   "*) result ok "${line#ok   }" ;;
        "FAIL "*) result fail "${line#FAIL }" ;;
    esac
done <<<"$check_out"
grep -q '^checks: ' <<<"$check_out" || result fail "faults.py check ran to the end (exit $check_rc)"

stop_all
check "cluster and broker stopped" bash -c '! bin/kafka-broker status >/dev/null 2>&1 && [ -z "$(ls '"$flink_dir"'/*.pid 2>/dev/null)" ]'
finish
