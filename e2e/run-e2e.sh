#!/usr/bin/env bash
# End-to-end test on real servers: a Kafka broker process (bin/kafka-broker), a Flink standalone
# cluster of one JobManager and two TaskManagers (bin/flink-cluster), the job submitted with the Flink
# CLI (bin/lib/jobs.sh, exactly-once, parallelism 2), a torch model's activations and weights sent
# from Python (examples/python/producer.py), and every qparams record checked bit for bit against
# torch's own observers (examples/python/consumer.py), exported in every format by bin/qparams export
# (checked against the consumer's records, e2e/lib/check_exports.py) and read again with kcat.
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
set -uo pipefail
# shellcheck source=e2e/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh" e2e 1

batches=${E2E_BATCHES:-50}
sent_dir=$QPARAMS_VAR_DIR/sent

require "torch numpy confluent_kafka yaml jsonschema" kcat curl jq java mvn
(ensure_job_jar) || { result fail "job jar builds"; finish; }
servers_start

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
consumer_rc=$?
counts=$(sed -n 's/^consumer: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' <<<"$consumer_out")
if [ -n "$counts" ]; then
    read -r consumer_passed consumer_failed <<<"$counts"
    passed=$((passed + consumer_passed))
    failed=$((failed + consumer_failed))
    say "consumer: $consumer_passed passed, $consumer_failed failed (one check per record, plus its named checks)"
else
    result fail "consumer ran (exit $consumer_rc)"
fi
[ "$consumer_rc" = 0 ] || [ -z "$counts" ] || [ "${consumer_failed:-0}" != 0 ] || result fail "consumer exit status 0"

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

# ---- the job ran through without a restart, on both TaskManagers ----
never_restarted() {
    flink_rest "jobs/$job_id" | jq -e '.state == "RUNNING" and .timestamps.RESTARTING == 0' >/dev/null \
        && [ "$(job_restarts "$job_id")" = 0 ]
}
check "job still RUNNING and never restarted" never_restarted
taskmanagers_used=$(job_subtasks "$job_id" | jq '[.[].taskmanager] | unique | length')
check "job spread over both TaskManagers (its tasks run on $taskmanagers_used)" test "${taskmanagers_used:-0}" = 2
cancel_job "$job_id"
check "job cancelled" test $? = 0

# ---- stop everything and check that nothing is left ----
servers_stop
check "cluster and broker stopped" servers_stopped
finish
