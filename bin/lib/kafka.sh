# Sourced (not run): the single-node KRaft Kafka broker of bin/kafka-broker (broker + controller in one
# process on 127.0.0.1), for bin/kafka-broker and the e2e tests.
#
#   QPARAMS_KAFKA_PORT             client port (default 9092)
#   QPARAMS_KAFKA_CONTROLLER_PORT  controller port (default client port + 1)
#   QPARAMS_VAR_DIR                data, logs and PID file go to <dir>/kafka (default var/ at the repo root)
#   QPARAMS_KAFKA_HEAP             JVM heap (default -Xmx512m)
#   QPARAMS_KAFKA_SECURITY         plaintext (default) or sasl_ssl (see kafka_write_properties)
#   QPARAMS_KAFKA_SECRETS_DIR      sasl_ssl: the CA, the broker's key store and the passwords (default <var>/kafka/secrets)
#   QPARAMS_KAFKA_SCRAM_USERS      sasl_ssl: a file of "name password" lines, users created when the log dir is formatted
#   QPARAMS_KAFKA_MTLS_PORT        sasl_ssl: the mutual-TLS listener's port (default client port + 2)
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
kafka_security=${QPARAMS_KAFKA_SECURITY:-plaintext}
kafka_secrets_dir=${QPARAMS_KAFKA_SECRETS_DIR:-$kafka_dir/secrets}
kafka_mtls_port=${QPARAMS_KAFKA_MTLS_PORT:-$((kafka_port + 2))}
# The super user of the sasl_ssl mode: the broker's own principal between its listeners, and the tools'.
kafka_admin='admin'

kafka_java() {
    java "${java_opts[@]}" -Dkafka.logs.dir="$kafka_logs_dir" \
        -Dlog4j2.configurationFile="$root/conf/kafka/log4j2.properties" -cp "$kafka_lib/*" "$@"
}

# conf/kafka/server.properties with this run's ports and folders appended (in a properties file the last key wins).
# sasl_ssl: the client listener is SASL_SSL with SCRAM-SHA-512 (users in the cluster metadata, created when the log
# directory is formatted), a second one on the mTLS port authenticates clients by their certificate (signed by the
# CA: `bin/kafka-broker client-cert NAME`, principal User:NAME); the controller listener is SASL_SSL with PLAIN for the
# admin alone; KRaft's StandardAuthorizer allows nothing without an ACL, except to the super user admin. The file then
# holds the broker's passwords: mode 600.
kafka_write_properties() {
    local listeners=PLAINTEXT://127.0.0.1:$kafka_port
    [ "$kafka_security" = sasl_ssl ] && listeners=SASL_SSL://127.0.0.1:$kafka_port,SSL://127.0.0.1:$kafka_mtls_port
    (umask 077 && cat "$root/conf/kafka/server.properties" - >"$kafka_properties") <<PROPS

# ---- appended by bin/lib/kafka.sh ----
listeners=$listeners,CONTROLLER://127.0.0.1:$kafka_controller_port
advertised.listeners=$listeners
controller.quorum.bootstrap.servers=127.0.0.1:$kafka_controller_port
log.dirs=$kafka_data_dir
PROPS
    [ "$kafka_security" = sasl_ssl ] || return 0
    local admin_password store_password jaas=org.apache.kafka.common.security
    admin_password=$(cat "$kafka_secrets_dir/admin.password")
    store_password=$(cat "$kafka_secrets_dir/store.password")
    cat >>"$kafka_properties" <<PROPS
listener.security.protocol.map=CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL,SSL:SSL
listener.name.ssl.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([A-Za-z0-9._-]+)\$/\$1/,DEFAULT
inter.broker.listener.name=SASL_SSL
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$jaas.scram.ScramLoginModule required username="$kafka_admin" password="$admin_password";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=$jaas.plain.PlainLoginModule required username="$kafka_admin" password="$admin_password" user_$kafka_admin="$admin_password";
ssl.keystore.type=PKCS12
ssl.keystore.location=$kafka_secrets_dir/broker.p12
ssl.keystore.password=$store_password
ssl.key.password=$store_password
ssl.truststore.type=PEM
ssl.truststore.location=$kafka_secrets_dir/ca.crt
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$kafka_admin
PROPS
}

# A password of letters and digits (what the SCRAM arguments of kafka-storage take unquoted).
random_password() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }

keytool_store() { # keytool arguments...: with the store password from its file, never on a command line
    keytool -storetype PKCS12 -storepass:file "$kafka_secrets_dir/store.password" "$@" >>"$kafka_secrets_dir/keytool.log" 2>&1
}

# sasl_ssl: the secrets folder, made once (mode 700): passwords, a CA (ca.p12, and ca.crt for clients), the broker's
# key and certificate signed by it (broker.p12: CN=localhost, SAN localhost and 127.0.0.1), and admin.properties, the
# super user's Kafka client settings for kafka-acls and kafka-topics (bin/kafka-broker acls|topics).
kafka_make_secrets() {
    local dir=$kafka_secrets_dir
    [ -f "$dir/admin.properties" ] && return 0
    command -v keytool >/dev/null || die "no keytool on PATH (it comes with the JDK)"
    log "making a CA, the broker's certificate and the admin's password in $dir (keytool)"
    rm -rf "$dir"
    mkdir -p "$dir" || die "cannot make $dir"
    chmod 700 "$dir"
    (umask 077 && random_password >"$dir/store.password" && random_password >"$dir/admin.password")
    local validity=(-validity 825 -keyalg RSA -keysize 2048)
    if ! { keytool_store -genkeypair -alias ca -dname "CN=qparams local CA" -ext bc:c "${validity[@]}" \
        -keystore "$dir/ca.p12" && keytool_store -exportcert -rfc -alias ca -keystore "$dir/ca.p12" -file "$dir/ca.crt" \
        && kafka_sign broker CN=localhost SAN=dns:localhost,ip:127.0.0.1; }; then
        show_logs "$dir/keytool.log"
        die "keytool failed (log: $dir/keytool.log)"
    fi
    (umask 077 && cat >"$dir/admin.properties") <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$kafka_admin" password="$(cat "$dir/admin.password")";
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.crt
PROPS
}

# A key and a certificate signed by the CA, with the CA's certificate, in <secrets>/<name>.p12 (store password:
# store.password): the broker's, or a client's for mutual TLS (its principal is User:<dname>).
kafka_sign() { # name dname [SAN=...]
    local dir=$kafka_secrets_dir name=$1 dname=$2 ext=()
    [ -n "${3:-}" ] && ext=(-ext "$3")
    keytool_store -genkeypair -alias "$name" -dname "$dname" -validity 825 -keyalg RSA -keysize 2048 \
        -keystore "$dir/$name.p12" \
        && keytool_store -certreq -alias "$name" -keystore "$dir/$name.p12" -file "$dir/$name.csr" \
        && keytool_store -gencert -alias ca -keystore "$dir/ca.p12" -infile "$dir/$name.csr" -outfile "$dir/$name.crt" \
            -rfc -validity 825 "${ext[@]}" \
        && keytool_store -importcert -noprompt -alias ca -file "$dir/ca.crt" -keystore "$dir/$name.p12" \
        && keytool_store -importcert -alias "$name" -file "$dir/$name.crt" -keystore "$dir/$name.p12"
}

# kafka-storage's arguments for the SCRAM users (admin, then QPARAMS_KAFKA_SCRAM_USERS), in a file it reads as
# @file (mode 600): the passwords never appear on a command line.
kafka_scram_arguments() { # file
    local name password
    (umask 077 && printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$kafka_admin" \
        "$(cat "$kafka_secrets_dir/admin.password")" >"$1")
    [ -n "${QPARAMS_KAFKA_SCRAM_USERS:-}" ] || return 0
    [ -r "$QPARAMS_KAFKA_SCRAM_USERS" ] || die "cannot read QPARAMS_KAFKA_SCRAM_USERS=$QPARAMS_KAFKA_SCRAM_USERS"
    while read -r name password; do
        [ -z "$name" ] || [[ $name == \#* ]] && continue
        [[ $name =~ ^[A-Za-z0-9._-]+$ && $password =~ ^[A-Za-z0-9._-]+$ ]] \
            || die "$QPARAMS_KAFKA_SCRAM_USERS: user '$name': names and passwords are letters, digits, '.', '_', '-'"
        printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$name" "$password" >>"$1"
    done <"$QPARAMS_KAFKA_SCRAM_USERS"
}

# Formats the log directory once. A standalone controller's voter set records its port, and SCRAM users are created
# only here, so a formatted directory only serves the controller port and the security mode it was formatted for.
kafka_format_once() {
    local formatted_for=$kafka_dir/formatted-controller-port cluster_id scram=() wanted="$kafka_controller_port $kafka_security"
    if [ -f "$kafka_data_dir/meta.properties" ]; then
        local was
        was=$(cat "$formatted_for" 2>/dev/null || echo '?')
        [ "${was% plaintext}" = "$kafka_controller_port" ] && [ "$kafka_security" = plaintext ] && return
        [ "$was" = "$wanted" ] && return
        die "$kafka_data_dir was formatted for controller port and mode '$was', not '$wanted': delete $kafka_dir to start afresh"
    fi
    cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$kafka_logs_dir/format.log" | tail -n 1)
    if [ "$kafka_security" = sasl_ssl ]; then
        kafka_scram_arguments "$kafka_dir/scram.args"
        scram=("@$kafka_dir/scram.args")
    fi
    log "formatting $kafka_data_dir (cluster id $cluster_id, $kafka_security)"
    kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$kafka_properties" "${scram[@]}" \
        >>"$kafka_logs_dir/format.log" 2>&1 || { show_logs "$kafka_logs_dir/format.log"; die "formatting $kafka_data_dir failed"; }
    rm -f "$kafka_dir/scram.args"
    echo "$wanted" >"$formatted_for"
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
    local ports=("$kafka_port" "$kafka_controller_port")
    [ "$kafka_security" = sasl_ssl ] && ports+=("$kafka_mtls_port")
    for port in "${ports[@]}"; do
        port_in_use "$port" && die "port $port is in use (set QPARAMS_KAFKA_PORT / QPARAMS_KAFKA_CONTROLLER_PORT / QPARAMS_KAFKA_MTLS_PORT)"
    done
    case "$kafka_security" in
        plaintext) ;;
        sasl_ssl) kafka_make_secrets ;;
        *) die "QPARAMS_KAFKA_SECURITY=$kafka_security: plaintext or sasl_ssl" ;;
    esac
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
    log "started (pid $pid, bootstrap servers 127.0.0.1:$kafka_port, $kafka_security, logs $kafka_logs_dir)"
}

# A client's key store for the mTLS listener, <secrets>/<name>.p12 (password: store.password), made once; prints its
# path. The broker maps its subject CN=<name> to the principal User:<name>.
kafka_client_cert() { # name
    [[ $1 =~ ^[A-Za-z0-9._-]+$ ]] || die "client-cert: a name of letters, digits, '.', '_', '-'"
    [ -f "$kafka_secrets_dir/ca.p12" ] || die "no CA in $kafka_secrets_dir: start the broker with QPARAMS_KAFKA_SECURITY=sasl_ssl first"
    if [ ! -f "$kafka_secrets_dir/$1.p12" ]; then
        kafka_sign "$1" "CN=$1" || { show_logs "$kafka_secrets_dir/keytool.log"; die "keytool failed"; }
    fi
    echo "$kafka_secrets_dir/$1.p12"
}

# A Kafka CLI tool (kafka-acls: org.apache.kafka.tools.AclCommand, kafka-topics: TopicCommand) against this broker,
# as its super user in the sasl_ssl mode.
kafka_tool() { # class arguments...
    local class=$1 config=()
    shift
    [ "$kafka_security" = sasl_ssl ] && config=(--command-config "$kafka_secrets_dir/admin.properties")
    kafka_java "$class" --bootstrap-server "127.0.0.1:$kafka_port" "${config[@]}" "$@"
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
