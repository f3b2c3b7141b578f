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
#            that is over (at least 300 rounds). Each job with a task on a killed TaskManager must restart
#            and run again; after the broker restart both must process rounds sent after it.
#   Phase 2  60 more rounds are streamed; mid-stream B is stopped with a savepoint (flink stop, no drain),
#            a new job jar is made, and B is resubmitted from the savepoint with it.
#   Phase 3  A (the reference: exactly-once, fresh group, no failure) reads the whole log.
#   Checks   (e2e/faults/faults.py check, read_committed): A and B run 1..R per tensor with no gap and no
#            repeat; every B record is byte-identical to A's for the same (tensor, batches); B continues
#            at N+1 after the savepoint; C lost nothing, its duplicates equal the first record of the same
#            source offset, and every C record (so its last) equals A's; no dead letters.
#
# Runs on its own ports and folder (var/faults, wiped first; see e2e/lib/harness.sh); stops everything it
# started, by PID, on any exit. The last line is "N passed, M failed"; the exit status is nonzero when
# anything failed.
#
#   FAULTS_SEED     the seed of the fault schedule (which TaskManager, when; default: random, printed)
#   FAULTS_RATE     rounds (30 batches) a second the producer streams (default 3)
#   FAULTS_REBUILD  1: phase 2's new jar is built with `mvn -q -DskipTests -pl job -am package` (writes
#                   job/target); default: the jar copied and re-stamped (new file, new checksum, same classes)
#   FAULTS_BROKER_KILL  1 (default): the broker is kill -9'd; 0: stopped cleanly with bin/kafka-broker stop
#   FAULTS_STATE_BACKEND  hashmap|rocksdb: passed to the jobs as --state-backend
#   FAULTS_JOB_JAR  test this jar instead of job/target/qparams-job.jar (built when older than its sources)
#   FAULTS_KAFKA_PORT, FAULTS_FLINK_REST_PORT, FAULTS_FLINK_RPC_PORT  ports (29092 and 29093, 28081, 26123)
#   FAULTS_FLINK_METRICS_PORTS  the Prometheus reporters' port range (28090-28099)
set -uo pipefail
# shellcheck source=e2e/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh" faults 20000
# shellcheck source=e2e/faults/lib.sh
source "$root/e2e/faults/lib.sh"

config=$root/e2e/faults/observers.yaml
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
harness_summary="fault schedule seed $seed"

job_flags() { # group output delivery: one flag or value a line
    local flags=(--bootstrap-servers "$bootstrap" --config "$config" --input-topic "$input" --output-topic "$2"
        --dlq-topic "$dlq" --control-topic "$control" --group-id "$1" --delivery "$3" --checkpoint-interval 1s)
    [ -n "${FAULTS_STATE_BACKEND:-}" ] && flags+=(--state-backend "$FAULTS_STATE_BACKEND")
    printf '%s\n' "${flags[@]}"
}

require "numpy confluent_kafka" curl jq java mvn jar
say "fault schedule seed $seed (FAULTS_SEED=$seed reproduces which TaskManager is killed when)"

# ---- servers ----
if [ -n "${FAULTS_JOB_JAR:-}" ]; then
    job_jar=$FAULTS_JOB_JAR
    check "job jar given ($job_jar)" test -f "$job_jar"
    [ -f "$job_jar" ] || finish
else
    (ensure_job_jar) || { result fail "job jar builds"; finish; }
fi
# Heartbeats: a kill -9'd TaskManager refuses the heartbeat RPC at once, and after heartbeat.rpc-failure-threshold
# (2) failed heartbeats, 1 s apart, the JobManager drops it (Flink's default is 10 s apart, or a 50 s timeout).
# The timeout stays well above GC pauses on a busy machine.
servers_start -D "heartbeat.interval=1 s" -D "heartbeat.timeout=15 s"
mkdir -p "$work/jars" "$work/savepoints"
# The jar is copied: a rebuild of job/target by someone else during the run changes nothing here.
jar_v1=$work/jars/qparams-job-v1.jar
cp "$job_jar" "$jar_v1"
"$python" "$faults_py" create-topic --bootstrap-servers "$bootstrap" --topic "$input" --partitions 4
check "input topic $input created (4 partitions)" test $? = 0

# ==== phase 1: B (exactly-once) and C (at-least-once) under 3 TaskManager kills and a broker restart ====
mapfile -t flags_b < <(job_flags faults-b "$out_b" exactly-once)
mapfile -t flags_c < <(job_flags faults-c "$out_c" at-least-once)
# Both submitted at once (each Flink CLI is a JVM start, a jar upload and a deployment: slow on a busy machine).
submit_job "$jar_v1" "${flags_b[@]}" >"$work/job-b.id" &
submit_b=$!
submit_job "$jar_v1" "${flags_c[@]}" >"$work/job-c.id"
wait "$submit_b" # the file is complete once its writer exited
job_b=$(cat "$work/job-b.id")
job_c=$(cat "$work/job-c.id")
check "B submitted (exactly-once, checkpoints every 1 s) and running (${job_b:-no job id})" test -n "$job_b"
check "C submitted (at-least-once, checkpoints every 1 s) and running (${job_c:-no job id})" test -n "$job_c"
if [ -z "$job_b" ] || [ -z "$job_c" ]; then finish; fi

# kill -9 of a random TaskManager mid-stream, its restart, and each job's recovery.
taskmanager_fault() { # k
    local k=$1 tm restart_delay tm_id at_round b_at killed live started dropped job id running
    local -A restarts subtasks
    tm=$((1 + RANDOM % 2))
    restart_delay=$((RANDOM % 3))
    tm_id=$(bin/flink-cluster taskmanager id "$tm")
    for job in b c; do
        id=job_$job
        restarts[$job]=$(job_restarts "${!id}")
        # Where each task runs, before the kill: it decides which jobs must restart.
        subtasks[$job]=$(wait_until 60 1 job_subtasks "${!id}") \
            || result fail "kill $k: ${job^^}'s tasks read from the REST API before the kill"
    done
    at_round=$(rounds_sent)
    b_at=$(output_progress "$out_b" | cut -d' ' -f1)
    bin/flink-cluster taskmanager kill "$tm"
    killed=$?
    live=$(streaming)
    check "kill $k: kill -9 TaskManager $tm (${tm_id:-?}) mid-stream at round $at_round sent, $b_at B records committed" \
        test "$killed" = 0 -a "$live" = yes
    sleep "$restart_delay" # how long the TaskManager stays away: part of the schedule, not a wait for an event
    bin/flink-cluster taskmanager start "$tm" # returns once the new TaskManager is registered
    started=$?
    wait_until 120 1 taskmanager_dropped "$tm_id"
    dropped=$?
    check "kill $k: the JobManager dropped ${tm_id:-?}, its restart (after ${restart_delay}s) registered as $(bin/flink-cluster taskmanager id "$tm")" \
        test "$started" = 0 -a "$dropped" = 0
    for job in b c; do
        id=job_$job
        if runs_on "${subtasks[$job]}" "$tm_id"; then
            check_recovered "kill $k: ${job^^} (tasks on ${tm_id:-?})" "${!id}" "${restarts[$job]}" "${subtasks[$job]}"
        else
            wait_until 120 1 job_running "${!id}"
            running=$?
            check "kill $k: ${job^^} had no task on ${tm_id:-?} and is RUNNING (numRestarts ${restarts[$job]} -> $(job_restarts "${!id}"))" \
                test "$running" = 0
        fi
    done
}

# The broker kill -9'd (or stopped) mid-stream and started again on the same data folder; both jobs must then
# process rounds that were sent after the restart.
broker_fault() {
    local at_round b_at stopped how restarted live resumed job id out ok restarts_before
    at_round=$(rounds_sent)
    b_at=$(output_progress "$out_b" | cut -d' ' -f1)
    if [ "${FAULTS_BROKER_KILL:-1}" = 1 ]; then
        bin/kafka-broker kill
        stopped=$?
        how="kill -9'd"
    else
        bin/kafka-broker stop
        stopped=$?
        how="stopped"
    fi
    sleep 2 # how long the broker stays away: part of the fault, not a wait for an event
    bin/kafka-broker start # returns once the broker serves
    restarted=$?
    live=$(streaming)
    resumed=$(rounds_sent)
    check "broker restart: $how and started again on the same data folder mid-stream (round $at_round sent, $b_at B records committed; stream at round $resumed)" \
        test "$stopped" = 0 -a "$restarted" = 0 -a "$live" = yes
    for job in b c; do
        id=job_$job out=out_$job
        restarts_before=$(job_restarts "${!id}")
        ok=no
        wait_batches "${!out}" "$((resumed + 1))" 180 && wait_until 120 1 job_running "${!id}" && ok=yes
        check "broker restart: ${job^^}'s output reached round $((resumed + 1)) (sent after the restart) and it is RUNNING (numRestarts $restarts_before -> $(job_restarts "${!id}"))" \
            test "$ok" = yes
    done
}

# The stream goes on (at least $rounds1 rounds) until every fault below is done and recovered from, however
# long recovery takes on this machine: each fault hits a job that is reading a live stream.
say "streaming at least $rounds1 rounds of $tensors tensors at $rate rounds/s into $input, faults meanwhile ..."
start_producer "$input" 0 "$rounds1" --stop-file "$work/stop-stream"
next_fault=$((15 + RANDOM % 30))
for k in 1 2 3; do
    wait_rounds_sent "$next_fault"
    taskmanager_fault "$k"
    next_fault=$(($(rounds_sent) + 3 + RANDOM % 20))
done
wait_rounds_sent "$next_fault"
broker_fault
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
start_producer "$input" "$rounds1" "$rounds2"
wait_rounds_sent "$((rounds1 + 10 + RANDOM % 15))"
at_round=$(rounds_sent)
savepoint=$(stop_with_savepoint "$job_b" "$work/savepoints") # returns once B is FINISHED
check "B stopped with a savepoint at round $at_round (flink stop), job FINISHED (${savepoint:-no savepoint})" test -n "$savepoint"
[ -n "$savepoint" ] || finish
"$python" "$faults_py" end-offsets --bootstrap-servers "$bootstrap" --topic "$out_b" >"$work/b-stop-offsets.json"
check "B's output end offsets at the stop recorded ($(cat "$work/b-stop-offsets.json"))" test -s "$work/b-stop-offsets.json"
job_b2=$(submit_job "$jar_v2" -s "$savepoint" "${flags_b[@]}")
check "B resubmitted from the savepoint with the new jar and running (${job_b2:-no job id})" test -n "$job_b2"
[ -n "$job_b2" ] || finish
restored_path() { flink_rest "jobs/$job_b2/checkpoints" | jq -r '.latest.restored.external_path // empty'; }
has_restored() { [ -n "$(restored_path)" ]; }
wait_until 60 1 has_restored
restored=$(restored_path)
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

servers_stop
check "cluster and broker stopped" servers_stopped
finish
