#!/usr/bin/env bash
# Runs kafkajs's own test suite (jest specs) against `sluice start`.
# See DESIGN.md, "Public client test suites".
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)

usage() {
  cat <<'EOF'
usage: scripts/public-suites/kafkajs.sh [options] <kafkajs-dir> [spec ...] [-- jest-args ...]

Runs the jest specs of a kafkajs source checkout (e.g. tulios/kafkajs at tag v2.2.4, with its
development dependencies installed: node_modules/.bin/jest must exist) against a fresh
`sluice start`, then prints a summary and stops the broker.

  <kafkajs-dir>  the kafkajs checkout
  spec ...       spec files or jest path patterns, e.g. src/admin/__tests__/describeConfigs.spec.js;
                 default: every spec (unit specs included: they need no broker)

kafkajs's harness expects brokers at localhost:9092, :9095 and :9098 (its docker-compose
cluster). The run therefore happens in a private network namespace (unshare --net, loopback only),
so those fixed ports cannot clash with anything else on the machine: Sluice listens on
localhost:9092 there, and 9095 and 9098 are forwarded to it (they only serve as bootstrap
addresses). Broker configs follow kafkajs's compose file where one broker can: node id 0 (its
first broker's), topics auto-created with 2 partitions, group.initial.rebalance.delay.ms=0.

With --cluster the run gets kafkajs's whole compose cluster instead: etcd (Debian's etcd-server)
and three brokers, node ids 0, 1 and 2, each with a PLAINTEXT, an SSL and a SASL_SSL listener on
the compose file's ports (9092-9094, 9095-9097, 9098-9100), a self-signed localhost certificate
(the specs do not verify it), SASL PLAIN with the compose file's JAAS users, SCRAM-SHA-256/512
credentials for testscram as its createScramCredentials.sh makes them, the ACL authorizer with
allow.everyone.if.no.acl.found=true and default.replication.factor=2.

options:
  --kafka-version V  the KAFKA_VERSION the specs gate on (default $KAFKA_VERSION, else 2.4, as
                     kafkajs's own CI)
  --cluster          three brokers with SSL and SASL listeners, as kafkajs's compose file
                     (needs etcd and openssl)
  --workers N        jest workers (default 1: --runInBand; specs share the one broker)
  --override k=v     an extra broker config for `sluice start` (repeatable)
  --no-netns         run in this network namespace (ports 9092, 9095, 9098 must be free)
  --no-forward       do not forward 9095 and 9098 to the broker
  --log-dir DIR      where logs and jest's JSON report go (default: a new directory under /tmp)
  --no-build         do not run `tsc -b` in the Sluice repository first
  -h, --help         this help

Exit status: 0 when no spec failed, 1 when one did, 2 on a usage or setup error.
EOF
}

die() { echo "kafkajs.sh: $*" >&2; exit 2; }

kafka_version=${KAFKA_VERSION:-2.4}
workers=1
overrides=()
netns=1
forward=1
cluster=0
log_dir=
build=1
positional=()
jest_args=()
original_args=("$@")
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --kafka-version) (($# >= 2)) || die "--kafka-version needs a value"; kafka_version=$2; shift 2 ;;
    --workers) (($# >= 2)) || die "--workers needs a number"; workers=$2; shift 2 ;;
    --override) (($# >= 2)) || die "--override needs key=value"; overrides+=("$2"); shift 2 ;;
    --cluster) cluster=1; shift ;;
    --no-netns) netns=0; shift ;;
    --no-forward) forward=0; shift ;;
    --log-dir) (($# >= 2)) || die "--log-dir needs a directory"; log_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; jest_args=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) positional+=("$1"); shift ;;
  esac
done
((${#positional[@]} >= 1)) || { usage >&2; exit 2; }
src=$(cd "${positional[0]}" 2>/dev/null && pwd) || die "no such directory: ${positional[0]}"
specs=("${positional[@]:1}")
[[ $workers =~ ^[1-9][0-9]*$ ]] || die "--workers takes a positive number"
for o in "${overrides[@]}"; do [[ $o == *=* ]] || die "--override takes key=value, not $o"; done
grep -q '"name": *"kafkajs"' "$src/package.json" 2>/dev/null || die "$src is not a kafkajs checkout (no package.json named kafkajs)"
[[ -x $src/node_modules/.bin/jest ]] || die "$src/node_modules/.bin/jest is missing: install the checkout's development dependencies first (npm install in $src)"

# Into a private network namespace first (loopback only), then everything else happens there.
if ((netns)) && [[ -z ${SLUICE_SUITE_IN_NETNS:-} ]]; then
  command -v unshare >/dev/null || die "unshare (util-linux) is needed for the private network namespace; or pass --no-netns"
  command -v ip >/dev/null || die "ip (iproute2) is needed to bring up loopback in the namespace; or pass --no-netns"
  unshare_args=(--net)
  ((EUID == 0)) || unshare_args+=(--map-root-user)
  SLUICE_SUITE_IN_NETNS=1 exec unshare "${unshare_args[@]}" -- "$0" "${original_args[@]}"
fi
if ((netns)); then ip link set lo up || die "could not bring up loopback in the network namespace"; fi

if [[ -z $log_dir ]]; then log_dir=$(mktemp -d /tmp/sluice-kafkajs.XXXXXX); fi
mkdir -p "$log_dir" || die "cannot create $log_dir"
log_dir=$(cd "$log_dir" && pwd)

# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"
forward_pid=
cleanup() {
  if [[ -n $forward_pid ]]; then
    kill -TERM "$forward_pid" 2>/dev/null || true
    wait "$forward_pid" 2>/dev/null || true
  fi
  sluice_stop
  cluster_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM


cluster_pids=()
cluster_dir=
# cluster_stop: SIGTERM every broker (clean shutdowns), then etcd; SIGKILL what is left after 15 s.
cluster_stop() {
  ((${#cluster_pids[@]})) || return 0
  local pid _
  for pid in "${cluster_pids[@]:1}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 150); do
    local alive=0
    for pid in "${cluster_pids[@]:1}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${cluster_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  cluster_pids=()
  [[ -n $cluster_dir ]] && rm -rf "$cluster_dir"
}

if ((build)); then sluice_build; fi

ports=(9092 9095 9098)
((cluster)) && ports=(9092 9093 9094 9095 9096 9097 9098 9099 9100 2379 2380)
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "something already listens on 127.0.0.1:$port (kafkajs's harness needs it)"
  fi
done

if ((cluster)); then
  etcd_bin=$(command -v etcd || echo /usr/bin/etcd)
  [[ -x $etcd_bin ]] || die "--cluster needs etcd (Debian package etcd-server)"
  command -v openssl >/dev/null || die "--cluster needs openssl for the brokers' certificate"
  cluster_dir=$(mktemp -d /tmp/sluice-kafkajs-cluster.XXXXXX)
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$cluster_dir/key.pem" -out "$cluster_dir/cert.pem" 2>"$log_dir/openssl.log" || die "openssl failed (log $log_dir/openssl.log)"
  cat "$cluster_dir/key.pem" "$cluster_dir/cert.pem" >"$cluster_dir/keystore.pem"
  "$etcd_bin" --data-dir "$cluster_dir/etcd" --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --log-level warn >"$log_dir/etcd.log" 2>&1 &
  cluster_pids+=($!)
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/2379) 2>/dev/null && break; sleep 0.1; done
  jaas='org.apache.kafka.common.security.plain.PlainLoginModule required username="test" password="testtest" user_test="testtest" user_bob="bobbob" user_alice="alicealice";'
  for id in 0 1 2; do
    plain=$((9092 + 3 * id))
    args=(start --node-id "$id" --etcd http://127.0.0.1:2379 --data-dir "$cluster_dir/broker$id"
      --override "listeners=PLAINTEXT://localhost:$plain,SSL://localhost:$((plain + 1)),SASL_SSL://localhost:$((plain + 2))"
      --override inter.broker.listener.name=PLAINTEXT
      --override ssl.keystore.type=PEM --override "ssl.keystore.location=$cluster_dir/keystore.pem"
      --override sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
      --override "listener.name.sasl_ssl.plain.sasl.jaas.config=$jaas"
      --override authorizer.class.name=kafka.security.authorizer.AclAuthorizer
      --override allow.everyone.if.no.acl.found=true
      --override auto.create.topics.enable=true
      --override num.partitions=2
      --override default.replication.factor=2
      --override delete.topic.enable=true
      --override group.initial.rebalance.delay.ms=0)
    for o in "${overrides[@]}"; do args+=(--override "$o"); done
    node "$SLUICE_MAIN" "${args[@]}" >"$log_dir/broker$id.log" 2>&1 &
    cluster_pids+=($!)
  done
  for id in 0 1 2; do
    for _ in $(seq 1 300); do grep -q 'advertised as' "$log_dir/broker$id.log" && break; kill -0 "${cluster_pids[$((id + 1))]}" 2>/dev/null || break; sleep 0.1; done
    grep -q 'advertised as' "$log_dir/broker$id.log" || { tail -20 "$log_dir/broker$id.log" >&2; die "broker $id did not start (log $log_dir/broker$id.log)"; }
  done
  # kafkajs's scripts/createScramCredentials.sh, through our configs tool.
  node "$SLUICE_MAIN" configs --bootstrap-server localhost:9092 --alter --entity-type users --entity-name testscram \
    --add-config 'SCRAM-SHA-256=[iterations=8192,password=testtestscram=256],SCRAM-SHA-512=[password=testtestscram=512]' >"$log_dir/scram.log" 2>&1 \
    || { cat "$log_dir/scram.log" >&2; die "creating the SCRAM credentials failed"; }
  echo "sluice cluster started: brokers 0, 1, 2 on localhost:9092/9095/9098 (SSL +1, SASL_SSL +2), etcd :2379; logs in $log_dir$( ((netns)) && echo ' (private network namespace)')"
else
args=(--host localhost --port 9092
  --override node.id=0
  --override auto.create.topics.enable=true
  --override num.partitions=2
  --override delete.topic.enable=true
  --override group.initial.rebalance.delay.ms=0)
for o in "${overrides[@]}"; do args+=(--override "$o"); done
sluice_start "$log_dir/broker.log" "${args[@]}"
echo "sluice started: localhost:$SLUICE_PORT, pid $SLUICE_PID, log $log_dir/broker.log$( ((netns)) && echo ' (private network namespace)')"

if ((forward)); then
  node "$SCRIPT_DIR/tcp-forward.mjs" 9095:9092 9098:9092 >"$log_dir/forward.log" 2>&1 &
  forward_pid=$!
  for _ in $(seq 1 100); do grep -q '^forwarding' "$log_dir/forward.log" && break; sleep 0.1; done
  grep -q '^forwarding' "$log_dir/forward.log" || { cat "$log_dir/forward.log" >&2; die "the port forwarder did not start"; }
  echo "$(cat "$log_dir/forward.log")"
fi
fi

jest=("$src/node_modules/.bin/jest" --ci --forceExit --json --outputFile="$log_dir/jest.json")
if ((workers == 1)); then jest+=(--runInBand); else jest+=(--maxWorkers="$workers"); fi
jest+=("${jest_args[@]}" "${specs[@]}")
echo "running jest in $src (KAFKA_VERSION=$kafka_version): ${specs[*]:-all specs}; output in $log_dir/jest.log"
rc=0
(
  cd "$src"
  export KAFKA_VERSION=$kafka_version KAFKAJS_DEBUG_PROTOCOL_BUFFERS=1 NODE_ENV=test
  export JEST_JUNIT_OUTPUT_DIR="$log_dir"
  exec "${jest[@]}"
) >"$log_dir/jest.log" 2>&1 || rc=$?
((cluster)) || sluice_alive || echo "kafkajs.sh: warning: sluice was no longer running at the end of the run (log $log_dir/broker.log)" >&2

[[ -s $log_dir/jest.json ]] || { tail -30 "$log_dir/jest.log" >&2; die "jest wrote no report (exit status $rc)"; }
node - "$log_dir/jest.json" "$src" "$log_dir/failures.txt" <<'EOF'
const fs = require('node:fs');
const [report, root, failuresFile] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(report, 'utf8'));
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
const lines = [];
for (const file of r.testResults) {
  const rel = file.name.startsWith(root + '/') ? file.name.slice(root.length + 1) : file.name;
  const failed = file.assertionResults.filter((a) => a.status === 'failed');
  if (file.status === 'failed' && failed.length === 0) {
    lines.push(`${rel}: the file failed to run: ${strip(file.message).trim().split('\n').slice(0, 3).join(' | ')}`);
  }
  for (const a of failed) {
    const msg = strip(a.failureMessages.join('\n')).split('\n').map((l) => l.trim()).filter(Boolean);
    lines.push(`${rel} › ${a.fullName}: ${(msg[0] ?? '').slice(0, 300)}`);
  }
}
fs.writeFileSync(failuresFile, lines.join('\n') + (lines.length ? '\n' : ''));
for (const l of lines) console.log(`  FAILED  ${l}`);
const brokenFiles = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed')).length;
console.log(`spec files: ${r.numPassedTestSuites} passed, ${r.numFailedTestSuites} failed (${brokenFiles} without a test result), ${r.numPendingTestSuites} skipped; failures listed in ${failuresFile}`);
console.log(`kafkajs: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`);
process.exitCode = r.numFailedTests > 0 || r.numFailedTestSuites > 0 ? 1 : 0;
EOF
