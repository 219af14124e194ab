#!/usr/bin/env bash
# Runs librdkafka's own regression tests (tests/test-runner) against `sluice start`.
# See DESIGN.md, "Public client test suites".
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)

usage() {
  cat <<'EOF'
usage: scripts/public-suites/librdkafka.sh [options] <librdkafka-dir> [test-number ...]

Runs librdkafka's regression tests (tests/test-runner of a librdkafka source checkout that is
already built: the library in src/ and src-cpp/, and tests/test-runner) against a fresh
`sluice start` on a free loopback port, then prints a summary and stops the broker.

  <librdkafka-dir>   a built librdkafka checkout (e.g. confluentinc/librdkafka at tag v2.0.2)
  test-number ...    tests to run, e.g. 0113 0081 (a number selects all its variants, as
                     TESTS= does); default: every test numbered below 1000

The broker is configured as librdkafka's test scenarios configure Kafka: topics auto-created
with 4 partitions, everything else at Kafka's defaults (some 0113 sub-tests count rebalances and
rely on group.initial.rebalance.delay.ms being the default 3000). Each test number runs in its
own test-runner process (librdkafka's runner aborts the whole run when one test times out), one
broker for all of them. Tests of the "noautocreate" scenario run in a second pass, against a
broker with auto.create.topics.enable=false.

options:
  --kafka-version V  broker version the tests gate features on (default $TEST_KAFKA_VERSION,
                     else 3.9.0)
  --local            run the local tests instead (-l: mock cluster and unit tests; no broker)
  --no-sockem        skip the sockem (socket fault-injection) tests (-E)
  --cluster          three brokers and etcd (`sluice cluster up --brokers 3`) instead of one, so
                     the tests that need several brokers or replication factor 3 run too
  --quick            quick mode (-Q, as librdkafka's own broker targets use): fewer messages and
                     no sub-tests that are not marked quick (0113 then stops after c_*)
  --override k=v     an extra broker config for `sluice start` (repeatable)
  --timeout SECONDS  wall-clock limit for one test number (default 3600)
  --log-dir DIR      where logs go (default: a new directory under /tmp); kept after the run
  --no-build         do not run `tsc -b` in the Sluice repository first
  -h, --help         this help

The environment passes through to test-runner: SUBTESTS=u_multiple_subscription_changes,
TEST_DEBUG=cgrp,protocol, TEST_LEVEL=3, ...

Exit status: 0 when no test failed, 1 when one did, 2 on a usage or setup error.
EOF
}

die() { echo "librdkafka.sh: $*" >&2; exit 2; }

kafka_version=${TEST_KAFKA_VERSION:-3.9.0}
mode=broker
sockem=1
quick=0
cluster=0
overrides=()
per_test_timeout=3600
log_dir=
build=1
positional=()
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --kafka-version) (($# >= 2)) || die "--kafka-version needs a value"; kafka_version=$2; shift 2 ;;
    --local) mode=local; shift ;;
    --no-sockem) sockem=0; shift ;;
    --quick) quick=1; shift ;;
    --cluster) cluster=1; shift ;;
    --override) (($# >= 2)) || die "--override needs key=value"; overrides+=("$2"); shift 2 ;;
    --timeout) (($# >= 2)) || die "--timeout needs seconds"; per_test_timeout=$2; shift 2 ;;
    --log-dir) (($# >= 2)) || die "--log-dir needs a directory"; log_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; positional+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) positional+=("$1"); shift ;;
  esac
done
((${#positional[@]} >= 1)) || { usage >&2; exit 2; }
src=$(cd "${positional[0]}" 2>/dev/null && pwd) || die "no such directory: ${positional[0]}"
tests_dir="$src/tests"
[[ -x "$tests_dir/test-runner" && -e "$src/src/librdkafka.so.1" ]] || die "$src is not a built librdkafka checkout: tests/test-runner and src/librdkafka.so.1 must exist.
Build the library and its test-runner first, as that checkout's README.md and tests/README.md describe."
[[ $per_test_timeout =~ ^[0-9]+$ ]] || die "--timeout takes whole seconds"
[[ $kafka_version =~ ^[0-9]+(\.[0-9]+){1,3}$ ]] || die "--kafka-version takes a version such as 3.9.0"
for o in "${overrides[@]}"; do [[ $o == *=* ]] || die "--override takes key=value, not $o"; done

numbers=()
if ((${#positional[@]} > 1)); then
  for n in "${positional[@]:1}"; do
    [[ $n =~ ^[0-9]{4}$ ]] || die "a test number has four digits (e.g. 0113), not $n"
    numbers+=("$n")
  done
else
  mapfile -t numbers < <(cd "$tests_dir" && ls [0-9][0-9][0-9][0-9]-*.c [0-9][0-9][0-9][0-9]-*.cpp 2>/dev/null \
    | cut -c1-4 | sort -u | awk '$1 < 1000')
  ((${#numbers[@]})) || die "no tests found in $tests_dir"
fi

# The test numbers that have a variant in the "noautocreate" scenario, from test.c's test table.
mapfile -t noautocreate_numbers < <(awk '
  match($0, /_TEST\([0-9][0-9][0-9][0-9]_/) { cur = substr($0, RSTART + 6, 4) }
  /\.scenario *= *"[^"]*noautocreate/ && cur != "" { print cur }' "$tests_dir/test.c" | sort -u)

if [[ -z $log_dir ]]; then log_dir=$(mktemp -d /tmp/sluice-librdkafka.XXXXXX); fi
mkdir -p "$log_dir/tests" || die "cannot create $log_dir"
log_dir=$(cd "$log_dir" && pwd)

# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"
cluster_dir=
# cluster_stop: `sluice cluster down` (clean shutdowns) and the cluster's data removed.
cluster_stop() {
  [[ -n $cluster_dir ]] || return 0
  node "$SLUICE_MAIN" cluster down --dir "$cluster_dir" >/dev/null 2>&1 || true
  rm -rf "$cluster_dir"
  cluster_dir=
}
# cluster_alive: every process of the cluster still runs.
cluster_alive() {
  [[ -n $cluster_dir ]] && node "$SLUICE_MAIN" cluster status --dir "$cluster_dir" --json 2>/dev/null \
    | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>process.exit(JSON.parse(s).processes.every((p)=>p.running)?0:1))'
}
broker_alive() { if ((cluster)); then cluster_alive; else sluice_alive; fi; }
broker_stop() { sluice_stop; cluster_stop; }
trap broker_stop EXIT
trap 'exit 130' INT TERM

if ((build)) && [[ $mode == broker ]]; then sluice_build; fi

# start_broker <scenario>: a new broker (sluice_start) and a test.conf that points at it.
start_broker() {
  local scenario=$1 autocreate=true o
  [[ $scenario == noautocreate ]] && autocreate=false
  local args=(--port 0
    --override "auto.create.topics.enable=$autocreate"
    --override num.partitions=4)
  for o in "${overrides[@]}"; do args+=(--override "$o"); done
  local bootstrap
  if ((cluster)); then
    cluster_dir=$(mktemp -d /tmp/sluice-suite-cluster.XXXXXX)
    local port
    port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    # Three consecutive ports from a free one (a port taken meanwhile fails `cluster up` plainly).
    node "$SLUICE_MAIN" cluster up --brokers 3 --dir "$cluster_dir" --port "$port" --detach "${args[@]:2}" >"$log_dir/cluster-$scenario.log" 2>&1 \
      || { tail -20 "$log_dir/cluster-$scenario.log" >&2; die "sluice cluster up failed (log $log_dir/cluster-$scenario.log)"; }
    bootstrap=$(sed -n 's/^bootstrap servers: //p' "$log_dir/cluster-$scenario.log")
    echo "sluice cluster started (scenario $scenario): $bootstrap, logs in $cluster_dir/logs"
  else
    sluice_start "$log_dir/broker-$scenario.log" "${args[@]}"
    bootstrap=127.0.0.1:$SLUICE_PORT
    echo "sluice started (scenario $scenario): $bootstrap, pid $SLUICE_PID, log $log_dir/broker-$scenario.log"
  fi
  {
    echo "# written by scripts/public-suites/librdkafka.sh"
    echo "bootstrap.servers=$bootstrap"
  } >"$log_dir/test.conf"
}

runner_flags=(-p1)
if [[ $mode == local ]]; then runner_flags+=(-l); else runner_flags+=(-L); fi
((sockem)) || runner_flags+=(-E)
((quick)) && runner_flags+=(-Q)

results="$log_dir/results.tsv"   # number, scenario, test name, state, seconds, reason
: >"$results"

# run_one <number> <scenario>
run_one() {
  local num=$1 scenario=$2 log="$log_dir/tests/$1-$2.log" rc=0 start end
  start=$(date +%s)
  (
    cd "$tests_dir"
    export TESTS=$num TEST_KAFKA_VERSION=$kafka_version RDKAFKA_TEST_CONF="$log_dir/test.conf"
    export LD_LIBRARY_PATH="$src/src:$src/src-cpp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # Line-buffered: the runner can abort() after a failure (threads left running), which would
    # lose a buffered summary table.
    exec timeout --kill-after=10 "$per_test_timeout" stdbuf -oL -eL ./test-runner "${runner_flags[@]}" -s "$scenario"
  ) >"$log" 2>&1 || rc=$?
  end=$(date +%s)
  # The runner's summary table: "| <name> | <STATE> | <seconds>s | <reason>", in colour.
  local rows
  rows=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk -F'|' -v num="$num" -v sc="$scenario" '
    /^TEST [0-9]+ .* SUMMARY/ { in_table = 1; delete seen; n = 0; next }
    in_table && /^#=+#$/ { if (++bars == 2) { in_table = 0; bars = 0 } ; next }
    in_table && NF >= 4 {
      name = $2; state = $3; secs = $4; reason = $5
      gsub(/^ +| +$/, "", name); gsub(/^ +| +$/, "", state); gsub(/^ +| +$/, "", secs); sub(/s$/, "", secs)
      gsub(/^ +| +$/, "", reason); gsub(/\t/, " ", reason)
      # <MAIN>, and tests this run does not select (other numbers, scenarios or local/broker).
      if (name == "<MAIN>" || state == "SKIPPED" && (reason == "" || reason ~ /not included in TESTS list|requires test scenario|filtered due to test flags|negative test flags/)) next
      row[name] = num "\t" sc "\t" name "\t" state "\t" secs "\t" reason
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
    }
    END { for (i = 1; i <= n; i++) print row[order[i]] }')
  # A failure the table gives no reason for: the runner's first "### Test ... failed" report.
  local first_failure
  first_failure=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
    /^### Test "/ && !/^### Test "<MAIN>"/ { what = $0; sub(/^### Test "/, "", what); sub(/" failed at .*/, "", what); getline; print what ": " $0; exit }')
  if [[ -n $rows && -n $first_failure ]]; then
    rows=$(printf '%s\n' "$rows" | awk -F'\t' -v OFS='\t' -v why="${first_failure//\\/\\\\}" '$4 != "PASSED" && $4 != "SKIPPED" && $6 == "" { $6 = why } { print }')
  fi
  if [[ -z $rows ]]; then
    if ((rc == 0)); then return 0; fi   # nothing of this number runs in this mode
    local why="test-runner exited with status $rc and printed no summary"
    if ((rc == 124 || rc == 137)); then why="killed after the --timeout of ${per_test_timeout}s"; fi
    if [[ -n $first_failure ]]; then why="$why; first failure: $first_failure"; fi
    rows=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$num" "$scenario" "$num" CRASHED "$((end - start))" "$why")
  fi
  printf '%s\n' "$rows" >>"$results"
  printf '%s\n' "$rows" | awk -F'\t' '{ printf "  %-45s %-8s %8ss  %s\n", $3, $4, $5, $6 }'
}

run_pass() {
  local scenario=$1; shift
  (($#)) || return 0
  if [[ $mode == broker ]]; then start_broker "$scenario"; fi
  echo "running $# test number(s) in scenario $scenario (TEST_KAFKA_VERSION=$kafka_version, test-runner ${runner_flags[*]}); logs in $log_dir/tests"
  local num
  for num in "$@"; do
    if [[ $mode == broker ]] && ! broker_alive; then
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$num" "$scenario" "(broker)" CRASHED 0 "sluice was no longer running before test $num; restarted" >>"$results"
      echo "  sluice is no longer running (log $log_dir/broker-$scenario.log); restarting it" >&2
      broker_stop
      start_broker "$scenario"
    fi
    run_one "$num" "$scenario"
  done
  if [[ $mode == broker ]]; then broker_stop; fi
}

run_pass default "${numbers[@]}"
second=()
for n in "${numbers[@]}"; do
  for m in "${noautocreate_numbers[@]}"; do [[ $n == "$m" ]] && second+=("$n"); done
done
if [[ $mode == broker ]]; then run_pass noautocreate "${second[@]}"; fi

echo
echo "summary ($results):"
awk -F'\t' '
  { count[$4]++ }
  $4 == "SKIPPED" { skipped[++s] = $3 " (" $6 ")" }
  $4 != "PASSED" && $4 != "SKIPPED" { bad[++b] = $3 " [" $2 "]: " $4 (($6 != "") ? " — " $6 : "") }
  END {
    for (i = 1; i <= s; i++) print "  skipped " skipped[i]
    for (i = 1; i <= b; i++) print "  FAILED  " bad[i]
    failed = count["FAILED"] + count["CRASHED"] + count["RUNNING"]
    printf "librdkafka: %d passed, %d failed, %d skipped\n", count["PASSED"], failed, count["SKIPPED"]
    exit failed > 0
  }' "$results"
