#!/usr/bin/env bash
# End-to-end test on real servers: a Kafka broker process (bin/kafka-broker), a Flink standalone
# cluster of one JobManager and two TaskManagers (bin/flink-cluster), the job submitted with the Flink
# CLI (bin/lib/jobs.sh, exactly-once, parallelism 2), a torch model's activations and weights sent
# from Python (examples/python/producer.py), and every qparams record checked bit for bit against
# torch's own observers (examples/python/consumer.py), exported in every format by bin/qparams export
# (checked against the consumer's records, e2e/lib/check_exports.py) and read again with kcat; every record's
# drift fields and the drift events re-derived in Python (e2e/lib/check_drift.py); bad records of
# each class and resets, then the job's counters, scraped from the TaskManagers' Prometheus reporters, equal
# what was sent. Then the torch loop (qparams.torch, e2e/lib/torch_loop.py and torch_ddp.py) through a second
# job: single-process and data-parallel calibration equal torch's own, also across a TaskManager kill.
#
# Runs on its own ports and folder (var/e2e, wiped first; see e2e/lib/harness.sh). Stops everything it
# started, by PID, on any exit. The last line is "N passed, M failed"; the exit status is nonzero when
# anything failed.
#
# Needs: a JDK 17, Maven, curl, jq, kcat, and /usr/bin/python3 with torch, numpy, confluent_kafka, jsonschema
# (Debian: apt-get install python3-torch python3-numpy python3-confluent-kafka python3-jsonschema kcat jq).
#
#   E2E_BATCHES  calibration batches (default 50; 21 activation tensors each, plus 7 weights once)
#   E2E_KAFKA_PORT, E2E_FLINK_REST_PORT, E2E_FLINK_RPC_PORT  ports (19092 and 19093, 18081, 16123)
#   E2E_FLINK_METRICS_PORTS  the Prometheus reporters' port range (18090-18099)
set -uo pipefail
# shellcheck source=e2e/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh" e2e 10000

batches=${E2E_BATCHES:-50}
sent_dir=$QPARAMS_VAR_DIR/sent

require "torch numpy confluent_kafka yaml jsonschema" kcat curl jq java mvn
(ensure_job_jar) || { result fail "job jar builds"; finish; }
servers_start

# A Python checker's own checks count in the totals: its stdout ends with "NAME: N passed, M failed".
tally() { # name output exit_status note
    local counts n m
    counts=$(sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed\$/\1 \2/p" <<<"$2")
    if [ -z "$counts" ]; then
        result fail "$1 ran (exit $3)"
        return
    fi
    read -r n m <<<"$counts"
    passed=$((passed + n))
    failed=$((failed + m))
    say "$1: $n passed, $m failed ($4)"
    [ "$m" != 0 ] && grep -v " passed, " <<<"$2" >&2 # the checker's failures
    [ "$3" = 0 ] || [ "$m" != 0 ] || result fail "$1 exit status 0"
}

# ---- job ----
job_id=$(submit_job "$job_jar" --bootstrap-servers "$bootstrap" --config e2e/observers.yaml \
    --delivery exactly-once --checkpoint-interval 2s --group-id qparams-e2e)
check "job submitted and running (${job_id:-no job id})" test -n "$job_id"
# The cluster takes jobs from the Flink CLI (the job graph, POST /jobs) but no jar upload through its
# REST API (web.submit.enable: false in conf/flink/config.yaml): the handler is not there at all.
jar_upload_status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$rest_url/jars/upload")
check "the REST API has no jar upload (POST /jars/upload: HTTP $jar_upload_status, 404 expected)" \
    test "$jar_upload_status" = 404
[ -n "$job_id" ] || finish

# ---- Python producer -> job -> Python export consumer ----
"$python" examples/python/producer.py --bootstrap-servers "$bootstrap" --batches "$batches" --weights --out "$sent_dir"
check "producer sent every batch" test $? = 0
expected=$(grep -c . "$sent_dir/manifest.jsonl" 2>/dev/null || echo 0)
say "waiting for $expected qparams records (exactly-once: visible at each checkpoint) ..."
# The consumer waits for the records itself (up to --timeout) and prints its tally last, on stdout.
consumer_out=$("$python" examples/python/consumer.py --bootstrap-servers "$bootstrap" --config e2e/observers.yaml \
    --sent "$sent_dir/manifest.jsonl" --timeout 150 --export "$QPARAMS_VAR_DIR/export.json" \
    --schema docs/schema/qparams-record.schema.json)
tally consumer "$consumer_out" $? "one check per record, plus its named checks"

# ---- bin/qparams export from the real topic (read committed, up to the end offsets) ----
export_dir=$QPARAMS_VAR_DIR/exports
mkdir -p "$export_dir"
export_from_topic() { # format out flags...: one export of the qparams topic
    local format=$1 out=$2
    shift 2
    bin/qparams export --format "$format" --bootstrap-servers "$bootstrap" --topic qparams --out "$out" "$@" \
        2>>"$export_dir/export.log"
}
check "export json from the topic" export_from_topic json "$export_dir/qparams.json"
check "export aimet 0.6.1 from the topic" export_from_topic aimet "$export_dir/model.encodings"
# TensorRT's int8 is symmetric: the symmetric tensors (linear and ReLU outputs) export ...
check "export tensorrt of the symmetric tensors" export_from_topic tensorrt "$export_dir/model.cache" \
    --match 'classifier.fc*.output' --match '*.relu*.output'
# ... an affine one with a non-zero zero point is refused: exit 2, one line naming it, no file.
export_from_topic tensorrt "$export_dir/refused.cache"
refused_status=$?
# shellcheck disable=SC2016 # the single-quoted script's $1..$3 are the arguments after it
check "export tensorrt of every tensor is refused (exit $refused_status), one line naming a tensor, nothing written" \
    bash -c '[ "$1" = 2 ] && tail -n 1 "$2" | grep -q "^qparams export: tensor .* cannot be expressed in a TensorRT cache" \
        && [ ! -e "$3" ]' _ "$refused_status" "$export_dir/export.log" "$export_dir/refused.cache"
check "export torch from the topic" export_from_topic torch "$export_dir/observers.pt"
check "export ort-calibration of the weights and ReLU outputs" export_from_topic ort-calibration \
    "$export_dir/calibration" --match '*.weight' --match '*.relu*.output'
check "export ort-calibration wrote its four files" test -s "$export_dir/calibration/calibration.flatbuffers" \
    -a -s "$export_dir/calibration/calibration.cache" -a -s "$export_dir/calibration/calibration.json" \
    -a -s "$export_dir/calibration/tensor_quant_overrides.json"
check "the exports equal the consumer's latest records, by schema and bit for bit (e2e/lib/check_exports.py)" \
    "$python" e2e/lib/check_exports.py --schema docs/schema/qparams-record.schema.json \
    --consumer "$QPARAMS_VAR_DIR/export.json" --json "$export_dir/qparams.json" \
    --aimet "$export_dir/model.encodings" --tensorrt "$export_dir/model.cache" --torch "$export_dir/observers.pt"

# ---- the same topic through kcat ----
kcat_read() { # topic: every committed record, from the beginning, as kcat's JSON envelope (key, payload, ...)
    kcat -b "$bootstrap" -C -t "$1" -o beginning -e -q -J -X isolation.level=read_committed
}
kcat_read qparams >"$QPARAMS_VAR_DIR/qparams.jsonl"
check "kcat reads $expected records from qparams" test "$(grep -c . "$QPARAMS_VAR_DIR/qparams.jsonl")" = "$expected"
softmax_is_reduce_range_minmax() {
    jq -e -s --argjson batches "$batches" '[.[] | select(.key == "classifier.softmax.output") | .payload | fromjson
        | select(.batches == $batches)] | length == 1 and all(.[]; .tensor == "classifier.softmax.output"
        and .status == "ok" and .observer == "MinMaxObserver" and .dtype == "quint8"
        and .qscheme == "per_tensor_affine" and .quant_min == 0 and .quant_max == 127
        and .source.topic == "activations")' "$QPARAMS_VAR_DIR/qparams.jsonl" >/dev/null
}
check "kcat: classifier.softmax.output after $batches batches is a reduce_range MinMaxObserver (0..127)" \
    softmax_is_reduce_range_minmax
check "kcat: no dead letters in activations.dlq" test "$(kcat_read activations.dlq | grep -c .)" = 0

# ---- drift (e2e/observers.yaml's rule): each record's drift fields and the events topic, re-derived ----
drift_events=$("$python" e2e/lib/check_drift.py count --records "$QPARAMS_VAR_DIR/qparams.jsonl" \
    --config e2e/observers.yaml)
events_read() { # the events topic holds (at least) the events the records call for
    kcat_read qparams.events >"$QPARAMS_VAR_DIR/events.jsonl"
    [ "$(grep -c . "$QPARAMS_VAR_DIR/events.jsonl")" -ge "${drift_events:-1}" ]
}
# The events commit with the records' checkpoint, each sink on its own: wait for them.
check "kcat reads the $drift_events drift events the records call for from qparams.events" \
    wait_until 60 1 events_read
drift_out=$("$python" e2e/lib/check_drift.py check --records "$QPARAMS_VAR_DIR/qparams.jsonl" \
    --events "$QPARAMS_VAR_DIR/events.jsonl" --config e2e/observers.yaml --schema-dir docs/schema)
tally drift "$drift_out" $? "each watched record's verdict and each event, re-derived in Python"

# ---- the job ran through without a restart, on both TaskManagers ----
never_restarted() {
    flink_rest "jobs/$job_id" | jq -e '.state == "RUNNING" and .timestamps.RESTARTING == 0' >/dev/null \
        && [ "$(job_restarts "$job_id")" = 0 ]
}
check "job still RUNNING and never restarted" never_restarted
taskmanagers_used=$(job_subtasks "$job_id" | jq '[.[].taskmanager] | unique | length')
check "job spread over both TaskManagers (its tasks run on $taskmanagers_used)" test "${taskmanagers_used:-0}" = 2

# ---- the job's counters on the TaskManagers' Prometheus reporters (docs/operations.md, "Metrics") ----
# Now that every check above has read the topics: one bad record of each class the e2e rules can produce (every
# name matches a rule, no record nears --max-batch-bytes), a weight batch that applies, and two resets. The job
# never restarted (checked above), so each counter, summed over both TaskManagers, equals what was sent.
kcat_send() { # topic [kcat flags...]: one record, its value from stdin (a line)
    local topic=$1
    shift
    kcat -P -b "$bootstrap" -t "$topic" "$@"
}
kcat_send activations <<<'{"min": -1, "max": 1}' # key: none
kcat_send activations -k e2e.metrics.decode <<<'not a batch' # decode
kcat_send activations -k e2e.metrics.nan <<<'{"shape": [2], "data": [1.0, "NaN"]}' # nonfinite: reject
kcat_send activations -k e2e.metrics.step -H qparams.step=x <<<'{"min": -1, "max": 1}' # step: no number
kcat_send activations -k e2e.metrics.weight <<<'{"min": [-1, -2, -3], "max": [1, 2, 3]}' # applied
kcat_send activations -k e2e.metrics.weight <<<'{"min": [-1, -2], "max": [1, 2]}' # observer: 2 channels of 3
kcat_send qparams.control -k e2e.metrics.ctl <<<'{"op": "explode"}' # control
kcat_send qparams.control -k e2e.metrics.weight <<<'{"op": "reset"}'
kcat_send qparams.control -k e2e.metrics.nan <<<'{"op": "reset"}'
expected_counters=$(printf '%s\n' "batches_applied $((expected + 1))" "dead_letters.control 1" \
    "dead_letters.decode 1" "dead_letters.key 1" "dead_letters.no_rule 0" "dead_letters.nonfinite 1" \
    "dead_letters.observer 1" "dead_letters.size 0" "dead_letters.step 1" "drift_events $drift_events" \
    "nonfinite_values 1" "resets 2") # the producer's batches are finite (ReLU outputs under reject): 1 NaN above
counted() { # the counters above, as the reporters serve them now
    job_counters "$job_id" | grep -E '^(batches_applied|dead_letters\.|drift_events |nonfinite_values |resets )'
}
counted_as_sent() { [ "$(counted)" = "$expected_counters" ]; }
# Counters move as the records are processed; the reporters read them on each scrape.
wait_until 60 1 counted_as_sent
counters=$(counted)
check "the reporters' qparams counters, summed over both TaskManagers, equal what was sent" \
    test "$counters" = "$expected_counters"
[ "$counters" = "$expected_counters" ] || diff <(echo "$expected_counters") <(echo "$counters") >&2
checkpoint_size() { # lastCheckpointSize of the job, from the JobManager's reporter
    curl -sf --max-time 5 "http://localhost:$(flink_metrics_port jobmanager)/metrics" \
        | sed -n "s/^flink_jobmanager_job_lastCheckpointSize{.*job_id=\"$job_id\".*} //p"
}
check "the JobManager's reporter serves the job's state size (lastCheckpointSize $(checkpoint_size) bytes)" \
    awk -v size="$(checkpoint_size)" 'BEGIN { exit !(size > 0) }'

cancel_job "$job_id"
check "job cancelled" test $? = 0

# ---- the torch loop (docs/torch.md): qparams.torch observers -> a second job -> load + convert ----
# Its own topics and rules (written by the check from the model's observers); exactly-once, so that a
# TaskManager kill below neither loses nor repeats a step.
torch_config=$QPARAMS_VAR_DIR/torch-observers.yaml
"$python" e2e/lib/torch_loop.py --write-config "$torch_config" 2>>"$QPARAMS_VAR_DIR/torch.log"
torch_topics=(--input-topic torch.activations --output-topic torch.qparams)
torch_job=$(submit_job "$job_jar" --bootstrap-servers "$bootstrap" --config "$torch_config" "${torch_topics[@]}" \
    --dlq-topic torch.dlq --control-topic torch.control --group-id qparams-torch --delivery exactly-once \
    --checkpoint-interval 1s --step-timeout 10s)
check "torch job submitted and running (${torch_job:-no job id}; --step-timeout 10s)" test -n "$torch_job"
torch_check() { # name script args...: one e2e/lib torch check against the torch job
    local name=$1 script=$2 out
    shift 2
    out=$("$python" "e2e/lib/$script" --bootstrap-servers "$bootstrap" "${torch_topics[@]}" "$@" \
        2>>"$QPARAMS_VAR_DIR/torch.log")
    tally "$name" "$out" $? "$script $*"
}
if [ -n "$torch_job" ]; then
    # One process calibrates with torch's observers; the same batches go through the job; load + convert
    # must give the same int8 model, byte for byte.
    torch_check torch-loop torch_loop.py --mode both
    # 4 ranks (gloo) publish their shards of every global batch; each record must equal torch's
    # observer over torch.cat of the shards, step by step, and load + convert the single-process model.
    torch_check torch-ddp torch_ddp.py --mode eager
    torch_check torch-ddp torch_ddp.py --mode fx --send npy
    # A rank that stops after step 4: the later steps go at the step timeout with 3 ranks of 4.
    torch_check torch-ddp torch_ddp.py --mode eager --stop-rank 3 --stop-after-step 4

    # A TaskManager kill -9 while the ranks publish: the job restarts from its last checkpoint, and the
    # records still equal the single-process reference, every step once, with all 4 ranks.
    input_count() { kcat_read torch.activations | grep -c .; }
    input_grew_past() { [ "$(input_count)" -gt "$1" ]; } # n
    restarts_before=$(job_restarts "$torch_job")
    ddp_out=$QPARAMS_VAR_DIR/torch-ddp-kill.out
    at=$(input_count)
    "$python" e2e/lib/torch_ddp.py --bootstrap-servers "$bootstrap" "${torch_topics[@]}" --mode eager --steps 40 \
        --max-delay 0.2 --seed 7 >"$ddp_out" 2>>"$QPARAMS_VAR_DIR/torch.log" &
    ddp_pid=$!
    wait_until 180 0.5 input_grew_past "$((at + 100))" # the ranks are publishing
    bin/flink-cluster taskmanager kill 1
    killed=$?
    bin/flink-cluster taskmanager start 1
    started=$?
    check "kill -9 TaskManager 1 while the ranks publish (input at $(input_count) records), restarted" \
        test "$killed" = 0 -a "$started" = 0
    wait "$ddp_pid"
    tally torch-ddp "$(cat "$ddp_out")" $? "torch_ddp.py --steps 40, a TaskManager killed meanwhile"
    torch_job_recovered() { [ "$(job_restarts "$torch_job")" -gt "$restarts_before" ] && job_running "$torch_job"; }
    wait_until 120 1 torch_job_recovered
    recovered=$?
    check "torch job restarted after the kill and RUNNING (numRestarts $restarts_before -> $(job_restarts "$torch_job"))" \
        test "$recovered" = 0
    check "kcat: no dead letters in torch.dlq" test "$(kcat_read torch.dlq | grep -c .)" = 0
    cancel_job "$torch_job"
    check "torch job cancelled" test $? = 0
fi

# ---- bin/qparams run's JVM: a fixed heap touched at start-up (QPARAMS_RUN_HEAP, docs/operations.md) ----
# The flags the JVM settled on, as -XX:+PrintCommandLineFlags prints them (one line, before the help).
run_jvm_flags() { # QPARAMS_RUN_HEAP value, or "" for unset
    QPARAMS_RUN_HEAP=$1 QPARAMS_JAVA_OPTS=-XX:+PrintCommandLineFlags bin/qparams run --help 2>/dev/null | head -n 1
}
flags=$(run_jvm_flags "")
check "qparams run: a 1 GiB heap, fixed and pre-touched, by default ($flags)" \
    grep -q -- '-XX:+AlwaysPreTouch .*-XX:InitialHeapSize=1073741824 .*-XX:MaxHeapSize=1073741824 ' <<<"$flags"
flags=$(run_jvm_flags 512m)
check "qparams run: QPARAMS_RUN_HEAP=512m sets both sizes" \
    grep -q -- '-XX:InitialHeapSize=536870912 .*-XX:MaxHeapSize=536870912 ' <<<"$flags"
flags=$(run_jvm_flags jvm)
check "qparams run: QPARAMS_RUN_HEAP=jvm leaves the heap to the JVM (no pre-touch)" \
    test -n "$flags" -a "${flags/AlwaysPreTouch/}" = "$flags"
heap_err=$(QPARAMS_RUN_HEAP=lots bin/qparams run --help 2>&1 >/dev/null)
heap_status=$?
check "qparams run: QPARAMS_RUN_HEAP=lots is refused with exit 2 and one line ($heap_err)" \
    test "$heap_status" = 2 -a "$(wc -l <<<"$heap_err")" = 1

# ---- stop everything and check that nothing is left ----
servers_stop
check "cluster and broker stopped" servers_stopped
finish
