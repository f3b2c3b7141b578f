#!/usr/bin/env bash
# End-to-end test of a secured Kafka (issue 13; docs/security.md): a broker process with a SASL_SSL listener
# (SCRAM-SHA-512), a mutual-TLS listener and ACLs (bin/kafka-broker with QPARAMS_KAFKA_SECURITY=sasl_ssl), the job on
# a Flink cluster of one JobManager and two TaskManagers (submitted with the Flink CLI, exactly-once) as principal
# User:qparams holding exactly the ACLs docs/security.md lists, on topics created beforehand (no Create). The job's
# password is ${env:QPARAMS_SECURE_JOB_PASSWORD} in its --kafka-properties, resolved by each Kafka client where it
# runs (the CLI, the JobManager, the TaskManagers).
#
# Checks: a producer with Write on activations feeds JSON stats (confluent_kafka, mTLS) and the records carry the
# min/max they must; bin/qparams export reads them as a principal with Read on qparams alone (Java, mTLS, its key store
# password a ${file:...} reference); the refusals: a wrong password (flink run and qparams run), a principal without
# Write on qparams (the ACL named), a client without Write on activations (nothing reaches the log); the job never
# restarted; and no password of the run is in any log of the broker, the JobManager, the TaskManagers and the CLIs,
# nor in the REST API's answers about the job and the cluster.
#
# Runs on its own ports and folder (var/secure, wiped first; see e2e/lib/harness.sh). Stops everything it started, by
# PID, on any exit. The last line is "N passed, M failed"; the exit status is nonzero when anything failed.
#
# Needs: a JDK 17 (keytool), Maven, curl, jq, /usr/bin/python3 with confluent_kafka.
#
#   SECURE_KAFKA_PORT, SECURE_FLINK_REST_PORT, SECURE_FLINK_RPC_PORT  ports (12092, controller 12093, mTLS 12094;
#                                                                     11081, 9123; below the ephemeral range, see
#                                                                     e2e/lib/harness.sh)
#   SECURE_FLINK_METRICS_PORTS  the Prometheus reporters' port range (11090-11099)
set -uo pipefail
# shellcheck source=e2e/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh" secure 3000
export QPARAMS_KAFKA_SECURITY=sasl_ssl
# shellcheck source=bin/lib/kafka.sh
source "$root/bin/lib/kafka.sh" # kafka_tool: Kafka's CLI tools as the broker's admin

mtls=127.0.0.1:$((QPARAMS_KAFKA_PORT + 2))
group=qparams-secure
# The test's client secrets live outside var/secure (which servers_start wipes), mode 700, removed at the end.
clients=$(mktemp -d)
harness_cleanup() { rm -rf "$clients"; }
out=$QPARAMS_VAR_DIR/out # what the CLIs printed
secrets=$QPARAMS_VAR_DIR/kafka/secrets

require "confluent_kafka torch" curl jq java mvn keytool
(ensure_job_jar) || { result fail "job jar builds"; finish; }
# bin/qparams builds the cli on first use: before the clock of any check runs.
bin/qparams --help >/dev/null 2>&1 || { result fail "bin/qparams builds"; finish; }

password() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20; }
job_password=$(password)
noout_password=$(password)
export QPARAMS_SECURE_JOB_PASSWORD=$job_password # inherited by the CLI, the JobManager and the TaskManagers
printf 'qparams %s\nnoout %s\n' "$job_password" "$noout_password" >"$clients/users"
export QPARAMS_KAFKA_SCRAM_USERS=$clients/users
printf 'observers:\n  - match: "*"\n    observer: MinMaxObserver\n' >"$clients/observers.yaml"
# A machine that runs other tests too can take more than Flink's default 10 s to start an actor system.
servers_start -D pekko.startup-timeout=60s
mkdir -p "$out"

# ---- client settings: SCRAM for the job's principals, mTLS for the others ----
scram_properties() { # user password-reference
    cat <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$1" password="$2";
ssl.truststore.type=PEM
ssl.truststore.location=$secrets/ca.crt
PROPS
}
# shellcheck disable=SC2016 # ${env:...} and ${file:...} are Kafka's config-provider references, not shell's
{
    scram_properties qparams '${env:QPARAMS_SECURE_JOB_PASSWORD}' >"$clients/job.properties"
    printf 'password=%s\n' "$noout_password" >"$clients/noout.secret"
    scram_properties noout "\${file:$clients/noout.secret:password}" >"$clients/noout.properties"
    printf 'password=not-%s\n' "$job_password" >"$clients/wrong.secret"
    scram_properties qparams "\${file:$clients/wrong.secret:password}" >"$clients/wrong.properties"
}
cat >"$clients/reader.properties" <<PROPS
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=$secrets/ca.crt
ssl.keystore.type=PKCS12
ssl.keystore.location=$secrets/reader.p12
ssl.keystore.password=\${file:$clients/reader.secret:password}
PROPS
mtls_client() { # name command specs...: e2e/lib/secure_clients.py as User:name on the mTLS listener
    local name=$1
    shift
    "$python" e2e/lib/secure_clients.py "$@" --bootstrap-servers "$mtls" --ca "$secrets/ca.crt" \
        --keystore "$secrets/$name.p12" --password-file "$secrets/store.password"
}

# ---- the topics (by the admin), exactly the ACLs of docs/security.md, client certificates ----
# Each is a JVM of its own (kafka-topics, kafka-acls, keytool): they run side by side.
all_succeed() { # command lines, one an argument: run at once, 0 when every one succeeded
    local pids=() pid rc=0 line
    for line in "$@"; do
        eval "$line" >>"$out/admin.log" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    return "$rc"
}
job_principals='--allow-principal User:qparams --allow-principal User:noout'
check "topics created, ACLs added (kafka-topics, kafka-acls; User:noout: all but Write on qparams), certificates made" \
    all_succeed \
    'bin/kafka-broker topics --create --topic activations --partitions 4' \
    'bin/kafka-broker topics --create --topic qparams --partitions 4' \
    'bin/kafka-broker topics --create --topic activations.dlq --partitions 1 --config max.message.bytes=16777216' \
    'bin/kafka-broker topics --create --topic qparams.control --partitions 1' \
    "bin/kafka-broker acls --add $job_principals --operation Read --topic activations --topic qparams.control \
        --group $group" \
    "bin/kafka-broker acls --add $job_principals --operation Write --topic activations.dlq" \
    'bin/kafka-broker acls --add --allow-principal User:qparams --operation Write --topic qparams' \
    "bin/kafka-broker acls --add $job_principals --operation Write --transactional-id $group \
        --resource-pattern-type prefixed" \
    'bin/kafka-broker acls --add --allow-principal User:feeder --operation Write --topic activations' \
    'bin/kafka-broker acls --add --allow-principal User:reader --operation Read --topic qparams' \
    'bin/kafka-broker client-cert feeder' 'bin/kafka-broker client-cert reader'
printf 'password=%s\n' "$(cat "$secrets/store.password")" >"$clients/reader.secret"

# ---- refusals before anything runs: one line naming what is wrong, and no job ----
job_flags=(--bootstrap-servers "$bootstrap" --group-id "$group" --delivery exactly-once --checkpoint-interval 2s)
flink_cli run -d -p 2 "$job_jar" "${job_flags[@]}" --kafka-properties "$clients/wrong.properties" >"$out/wrong.log" 2>&1
wrong_rc=$?
check "flink run with a wrong password fails (exit $wrong_rc) with the reason in one line" \
    grep -q "Kafka at $bootstrap refused the credentials: Authentication failed" "$out/wrong.log"
bin/qparams run "${job_flags[@]}" --kafka-properties "$clients/wrong.properties" >"$out/run-wrong.out" 2>"$out/run-wrong.log"
run_rc=$?
# shellcheck disable=SC2016
check "qparams run with a wrong password: exit $run_rc, one line on stderr" bash -c '[ "$1" = 2 ] \
    && [ "$(grep -vc "^WARNING: Using incubator modules" "$2")" = 1 ] \
    && grep -q "^qparams run: Kafka at .* refused the credentials: " "$2"' _ "$run_rc" "$out/run-wrong.log"
check "no job was submitted by the refused runs" test "$(flink_rest jobs/overview | jq '.jobs | length')" = 0

# ---- the job, fed by a producer with Write on activations ----
job_id=$(submit_job "$job_jar" "${job_flags[@]}" --kafka-properties "$clients/job.properties" \
    --config "$clients/observers.yaml" 2>>"$out/submit.log")
check "job submitted and running as User:qparams (${job_id:-no job id})" test -n "$job_id"
[ -n "$job_id" ] || finish
feed=(secure.a:-1:2 secure.b:0.25:0.75 secure.a:-3:1 secure.b:-0.5:0.5 secure.a:0.5:4)
check "User:feeder sends ${#feed[@]} batches (mTLS)" mtls_client feeder produce "${feed[@]}" --topic activations
mtls_client reader expect secure.a:3:-3:4 secure.b:2:-0.5:0.75 --topic qparams --timeout 120 >"$out/expect.log"
expect_rc=$?
cat "$out/expect.log" >&2
check "the records carry the min/max of their batches and torch's scale and zero point (read by User:reader, mTLS)" \
    test "$expect_rc" = 0
# The group has committed offsets by now (the records are out: a checkpoint completed), so the check asks the broker
# what this principal may do on it: Read, and on the topics all but Write on qparams.
flink_cli run -d -p 2 "$job_jar" "${job_flags[@]}" --kafka-properties "$clients/noout.properties" >"$out/noout.log" 2>&1
check "flink run as a principal without Write on qparams fails naming that ACL alone" \
    grep -q "refuses the job: no Write on topic 'qparams' (docs/security.md" "$out/noout.log"
check "no other job was submitted" test "$(flink_rest jobs/overview | jq '.jobs | length')" = 1
mtls_client reader produce secure.stranger:-9:9 --topic activations >"$out/stranger.log" 2>&1
stranger_rc=$?
check "User:reader (Read on qparams alone) cannot feed the job: refused (exit $stranger_rc)" test "$stranger_rc" = 3
log_end() { # the sum of activations' end offsets, as the admin reads them
    kafka_tool org.apache.kafka.tools.GetOffsetShell --topic activations 2>>"$out/admin.log" \
        | awk -F: '{n += $3} END {print n + 0}'
}
check "activations holds the feeder's ${#feed[@]} batches and nothing of the reader's" test "$(log_end)" = "${#feed[@]}"
bin/qparams export --format json --bootstrap-servers "$mtls" --kafka-properties "$clients/reader.properties" \
    --topic qparams --out "$QPARAMS_VAR_DIR/export.json" >"$out/export.out" 2>"$out/export.log"
# shellcheck disable=SC2016
check "qparams export reads the topic as User:reader (Java, mTLS, \${file:} key store password)" \
    jq -e '.["secure.a"].min_val == -3 and .["secure.a"].max_val == 4 and .["secure.b"].batches == 2' \
    "$QPARAMS_VAR_DIR/export.json" >/dev/null
never_restarted() {
    flink_rest "jobs/$job_id" | jq -e '.state == "RUNNING" and .timestamps.RESTARTING == 0' >/dev/null \
        && [ "$(job_restarts "$job_id")" = 0 ]
}
check "job still RUNNING and never restarted: every client authenticated" never_restarted

# ---- no password in anything the run wrote or the REST API shows ----
rest_answers() {
    local tm path
    for path in "jobs/$job_id" "jobs/$job_id/config" "jobs/$job_id/plan" "jobs/$job_id/exceptions" \
        "jobs/$job_id/checkpoints/config" jobmanager/config jobmanager/environment taskmanagers; do
        flink_rest "$path" || echo "GET $path failed" >&2
    done
    for tm in $(flink_taskmanager_ids); do flink_rest "taskmanagers/$tm"; done
}
rest_answers >"$out/rest.json"
check "REST answers saved ($(wc -c <"$out/rest.json") bytes, the job's config among them)" \
    grep -q "\"jid\":\"$job_id\"" "$out/rest.json"
leaks() { # the files (logs, CLI output, REST answers) that hold any password of this run
    local secret
    for secret in "$job_password" "$noout_password" "not-$job_password" "$(cat "$secrets/admin.password")" \
        "$(cat "$secrets/store.password")"; do
        grep -rlF -- "$secret" "$QPARAMS_VAR_DIR/kafka/logs" "$flink_log_dir" "$out"
    done
}
leaked=$(leaks)
check "no password in the logs of the broker, JobManager, TaskManagers, CLIs or the REST API${leaked:+ (found in: $leaked)}" \
    test -z "$leaked"
cancel_job "$job_id"
check "job cancelled" test $? = 0
servers_stop
check "cluster and broker stopped" servers_stopped
finish
