#!/usr/bin/env bash
# End-to-end test on real servers: a Kafka broker process (bin/kafka-broker), a Flink standalone
# cluster of one JobManager and two TaskManagers (bin/flink-cluster), the job submitted with the Flink
# CLI (bin/qparams-submit, exactly-once, parallelism 2), a torch model's activations and weights sent
# from Python (examples/python/producer.py), and every qparams record checked bit for bit against
# torch's own observers (examples/python/consumer.py) and read again with kcat.
#
# Runs on its own ports and folder (var/e2e, wiped first), so a broker or cluster of yours on the
# default ports is left alone. Stops everything it started, by PID, on any exit. The last line is
# "N passed, M failed"; the exit status is nonzero when anything failed.
#
# Needs: a JDK 17, Maven, curl, kcat, and /usr/bin/python3 with torch, numpy, confluent_kafka
# (Debian: apt-get install python3-torch python3-numpy python3-confluent-kafka kcat).
#
#   E2E_BATCHES  calibration batches (default 50; 21 activation tensors each, plus 7 weights once)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
export QPARAMS_VAR_DIR=$root/var/e2e
export QPARAMS_KAFKA_PORT=${E2E_KAFKA_PORT:-19092}
export QPARAMS_KAFKA_CONTROLLER_PORT=$((QPARAMS_KAFKA_PORT + 1))
export QPARAMS_FLINK_REST_PORT=${E2E_FLINK_REST_PORT:-18081}
export QPARAMS_FLINK_RPC_PORT=${E2E_FLINK_RPC_PORT:-16123}
python=/usr/bin/python3
bootstrap=127.0.0.1:$QPARAMS_KAFKA_PORT
batches=${E2E_BATCHES:-50}
sent_dir=$QPARAMS_VAR_DIR/sent
started=$(date +%s)
passed=0
failed=0

say() { echo "e2e: $*" >&2; }
result() { # ok|fail name
    if [ "$1" = ok ]; then
        passed=$((passed + 1))
        say "ok   $2"
    else
        failed=$((failed + 1))
        say "FAIL $2"
    fi
}
check() { # name command...: one named check
    local name=$1
    shift
    if "$@"; then result ok "$name"; else result fail "$name"; fi
}
stop_all() {
    bin/flink-cluster stop
    bin/kafka-broker stop
}
finish() {
    trap - EXIT
    stop_all # (a no-op when stopped already) before the closing line, which must come last
    say "done in $(($(date +%s) - started)) s (logs: $QPARAMS_VAR_DIR)"
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ] && exit 0 || exit 1
}
trap stop_all EXIT
trap 'exit 130' INT TERM # so that the EXIT trap runs

# ---- what this machine needs (installs nothing) ----
missing=()
[ -x "$python" ] || missing+=("/usr/bin/python3 (apt-get install python3)")
if [ -x "$python" ]; then
    for module in torch numpy confluent_kafka yaml; do
        "$python" -c "import $module" 2>/dev/null || missing+=("python module $module (apt-get install python3-${module/_/-})")
    done
fi
for tool in kcat curl java mvn; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    for m in "${missing[@]}"; do say "missing: $m"; done
    result fail "prerequisites present"
    finish
fi
result ok "prerequisites present"

# ---- servers ----
(source bin/lib/servers.sh && ensure_job_jar) || { result fail "job jar builds"; finish; }
bin/flink-cluster stop 2>/dev/null
bin/kafka-broker stop 2>/dev/null
rm -rf "$QPARAMS_VAR_DIR"
mkdir -p "$QPARAMS_VAR_DIR"
# Both come up at once (the jars are fetched first, once, so the two starts do not race for them).
(source bin/lib/servers.sh && ensure_dist) || { result fail "servers' jars fetched (dist/pom.xml)"; finish; }
bin/kafka-broker start &
broker_start=$!
bin/flink-cluster start
cluster_ok=$?
wait "$broker_start"
broker_ok=$?
check "Kafka broker started" test "$broker_ok" = 0
check "Flink cluster started with 2 TaskManagers" test "$cluster_ok" = 0
if [ "$broker_ok" != 0 ] || [ "$cluster_ok" != 0 ]; then finish; fi

# ---- job ----
job_id=$(bin/qparams-submit --bootstrap-servers "$bootstrap" --config e2e/observers.yaml --delivery exactly-once \
    --checkpoint-interval 2s --group-id qparams-e2e)
check "job submitted and running (${job_id:-no job id})" test -n "$job_id"
[ -n "$job_id" ] || finish

# ---- Python producer -> job -> Python export consumer ----
"$python" examples/python/producer.py --bootstrap-servers "$bootstrap" --batches "$batches" --weights --out "$sent_dir"
check "producer sent every batch" test $? = 0
expected=$(grep -c . "$sent_dir/manifest.jsonl" 2>/dev/null || echo 0)
say "waiting for $expected qparams records (exactly-once: visible at each checkpoint) ..."
consumer_out=$("$python" examples/python/consumer.py --bootstrap-servers "$bootstrap" --config e2e/observers.yaml \
    --sent "$sent_dir/manifest.jsonl" --timeout 150 --export "$QPARAMS_VAR_DIR/export.json")
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

# ---- the same topic through kcat ----
kcat_read() { # topic: every committed record as "key<TAB>value", from the beginning
    kcat -b "$bootstrap" -C -t "$1" -o beginning -e -q -X isolation.level=read_committed -f '%k\t%s\n'
}
kcat_read qparams >"$QPARAMS_VAR_DIR/qparams.tsv"
check "kcat reads $expected records from qparams" test "$(wc -l <"$QPARAMS_VAR_DIR/qparams.tsv")" = "$expected"
softmax=$(grep $'^classifier.softmax.output\t' "$QPARAMS_VAR_DIR/qparams.tsv" | grep "\"batches\":${batches}[,}]" | head -n 1)
has_fields() { # record field...: every "name":value fragment is in the record
    local record=$1 field
    shift
    for field in "$@"; do grep -qF -- "$field" <<<"$record" || return 1; done
}
check "kcat: classifier.softmax.output after $batches batches is a reduce_range MinMaxObserver (0..127)" \
    has_fields "${softmax:-none}" '"tensor":"classifier.softmax.output"' '"status":"ok"' '"observer":"MinMaxObserver"' \
    '"dtype":"quint8"' '"qscheme":"per_tensor_affine"' '"quant_min":0' '"quant_max":127' '"topic":"activations"'
check "kcat: no dead letters in activations.dlq" test "$(kcat_read activations.dlq | wc -l)" = 0

# ---- the job ran through without a restart ----
details=$(curl -sf "http://localhost:$QPARAMS_FLINK_REST_PORT/jobs/$job_id" || true)
running_unrestarted() { grep -q '"state":"RUNNING"' <<<"$details" && grep -q '"RESTARTING":0' <<<"$details"; }
check "job still RUNNING and never restarted" running_unrestarted
spread=$(curl -sf "http://localhost:$QPARAMS_FLINK_REST_PORT/taskmanagers" | grep -o '"freeSlots":1,' | wc -l)
check "job spread over both TaskManagers (one slot busy on each)" test "$spread" = 2
curl -sf -X PATCH "http://localhost:$QPARAMS_FLINK_REST_PORT/jobs/$job_id?mode=cancel" >/dev/null
check "job cancelled" test $? = 0

# ---- stop everything and check that nothing is left ----
stop_all
check "cluster and broker stopped" bash -c '! bin/flink-cluster status >/dev/null 2>&1 && ! bin/kafka-broker status >/dev/null 2>&1'
if [ "$failed" != 0 ]; then
    for f in "$QPARAMS_VAR_DIR"/flink/log/jobmanager.log "$QPARAMS_VAR_DIR"/flink/log/taskmanager-*.log; do
        [ -f "$f" ] && grep -m 5 -B 1 -A 8 "Exception" "$f" >&2
    done
fi
finish
