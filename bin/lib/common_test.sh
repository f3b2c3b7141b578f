#!/usr/bin/env bash
# Tests of bin/lib/common.sh's daemon handling on real processes (no JVM): `bash bin/lib/common_test.sh`
# ends with 'N passed, M failed' and exits nonzero on a failure. .ci/run runs it before the Maven build.
# shellcheck disable=SC2016 # the single-quoted $0s below are the inner bash's
set -uo pipefail
# shellcheck source=bin/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

passed=0
failed=0
check() { # description command...
    local description=$1
    shift
    if "$@"; then
        echo "common_test: ok   $description"
        passed=$((passed + 1))
    else
        echo "common_test: FAIL $description"
        failed=$((failed + 1))
    fi
}

# Gone as ps sees it (not through common.sh's own pid_gone): no such process, or a zombie.
ps_gone() { # pid
    local state
    state=$(ps -o stat= -p "$1")
    [ -z "$state" ] || [[ $state == Z* ]]
}

dir=$(mktemp -d)
trap 'for f in "$dir"/*.pid; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done; rm -rf "$dir"' EXIT

# A daemon that execs its command late: for its first half second its command line is bash's, without the
# marker (the string `sleep 3600` appears only once it has exec'd sleep). The CI flake this guards against:
# a PID file written before the exec made the cluster's start-up poll call a starting daemon gone.
marker='sleep 3600'
late_exec=(bash -c 'sleep 0.5; exec sleep "$0"' 3600)
start_daemon "$dir/late.pid" "$marker" "$dir/late.out" "${late_exec[@]}"
rc=$?
check "start_daemon returns 0 for a daemon that execs late" [ "$rc" = 0 ]
check "its PID file holds its PID" [ "$(cat "$dir/late.pid" 2>/dev/null)" = "$daemon_pid" ]
check "live_pid sees it as soon as start_daemon returns" [ "$(live_pid "$dir/late.pid" "$marker")" = "$daemon_pid" ]
pid=$daemon_pid
check "pid_gone says no while it runs" eval "! pid_gone $pid"
stop_pid "$dir/late.pid" "$marker" late 10 2>/dev/null
check "stop_pid returns once it is gone" ps_gone "$pid"
check "and removes the PID file" [ ! -e "$dir/late.pid" ]
check "pid_gone says yes once it is gone" pid_gone "$pid"

# A daemon that ignores TERM: stop_pid kills it after its timeout.
start_daemon "$dir/stubborn.pid" 'sleep 3601' "$dir/stubborn.out" bash -c 'trap "" TERM; exec sleep "$0"' 3601
pid=$daemon_pid
stop_pid "$dir/stubborn.pid" 'sleep 3601' stubborn 1 2>/dev/null
check "stop_pid kills a daemon that ignores TERM, after its timeout" ps_gone "$pid"

start_daemon "$dir/exits.pid" "$marker" "$dir/exits.out" bash -c 'echo "no such daemon" >&2; exit 3'
rc=$?
check "start_daemon fails for a command that exits before it runs the marker" [ "$rc" != 0 ]
check "and writes no PID file" [ ! -e "$dir/exits.pid" ]
check "its output is in its out file" grep -q "no such daemon" "$dir/exits.out"

gone_at_once() { return 2; }
wait_until 30 0.1 gone_at_once
rc=$?
check "wait_until ends at once with a command's status 2" [ "$rc" = 2 ]

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
