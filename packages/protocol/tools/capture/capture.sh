#!/usr/bin/env bash
# Regenerates packages/protocol/test/fixtures/<client>/ from real clients' traffic.
#
# Each client runs against a fresh librdkafka mock cluster (mock-cluster.c) while tcpdump records
# the loopback traffic to its broker ports; pcap-to-fixtures.mjs then reassembles the TCP streams
# and writes one file per Kafka frame. A recording proxy would be bypassed after bootstrap
# (Metadata/FindCoordinator answers carry the brokers' own addresses), a packet capture is not.
#
# Needs (Debian): kcat librdkafka-dev tcpdump gcc python3-kafka python3-snappy python3-lz4
# python3-zstandard, root (for tcpdump), and the root devDependencies kafkajs, kafkajs-snappy,
# @2l/kafkajs-lz4. Not run by CI: CI only tests the committed fixtures.
#
#   sudo packages/protocol/tools/capture/capture.sh          # all clients
#   sudo packages/protocol/tools/capture/capture.sh kcat     # one client: kcat | kafkajs | kafka-python
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
fixtures="$repo/packages/protocol/test/fixtures"
work="$(mktemp -d /tmp/sluice-capture.XXXXXX)"
trap 'rm -rf "$work"' EXIT

gcc -O1 -Wall -o "$work/mock-cluster" "$here/mock-cluster.c" -lrdkafka

librdkafka_version="$(kcat -V 2>&1 | sed -n 's/.*librdkafka \([0-9.]*\).*/\1/p')"
kafkajs_version="$(node -p "require('$repo/node_modules/kafkajs/package.json').version")"
kafka_python_version="$(/usr/bin/python3 -c 'import kafka; print(kafka.__version__)')"

# with_mock_cluster <client-name> <max-per-api> <function>
# Starts a 3-broker mock cluster, records loopback traffic to it while <function> runs with
# $BOOTSTRAP set, then converts the capture into fixtures/<client-name>/.
with_mock_cluster() {
  local client="$1" max_per_api="$2" scenario="$3"
  local fifo="$work/$client.stdin"
  mkfifo "$fifo"
  "$work/mock-cluster" 3 <"$fifo" >"$work/$client.bootstrap" 2>"$work/$client.mock.log" &
  local mock_pid=$!
  exec {keep_open}>"$fifo" # the mock serves until this descriptor closes
  for _ in $(seq 50); do [[ -s "$work/$client.bootstrap" ]] && break; sleep 0.1; done
  BOOTSTRAP="$(head -1 "$work/$client.bootstrap")"
  local ports="${BOOTSTRAP//127.0.0.1:/}"
  local filter="tcp and (port ${ports//,/ or port })"
  tcpdump -i lo -s 0 -U -B 16384 -w "$work/$client.pcap" "$filter" 2>"$work/$client.tcpdump.log" &
  local tcpdump_pid=$!
  sleep 1 # tcpdump must see every SYN
  echo "== $client against $BOOTSTRAP"
  "$scenario"
  sleep 1
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  exec {keep_open}>&-
  wait "$mock_pid" || true
  if ! grep -q '^0 packets dropped by kernel' "$work/$client.tcpdump.log"; then
    cat "$work/$client.tcpdump.log" >&2
    echo "tcpdump dropped packets: capture again" >&2
    exit 1
  fi
  node "$here/pcap-to-fixtures.mjs" --pcap "$work/$client.pcap" --broker-ports "$ports" \
    --client "$client" --out "$fixtures/$client" --max-per-api "$max_per_api" --keep-all-api 0,1
}

kcat_scenario() {
  local b="$BOOTSTRAP"
  kcat -b "$b" -L >/dev/null
  # One produce per codec; keys via -K, one record with headers.
  printf 'key-none-1:value-none-1\nkey-none-2:value-none-2\n' | kcat -b "$b" -P -t capture-none -K: -H trace=abc
  for codec in gzip snappy lz4 zstd; do
    printf 'key-%s-1:value-%s-1\nkey-%s-2:value-%s-2\nkey-%s-3:value-%s-3\n' \
      "$codec" "$codec" "$codec" "$codec" "$codec" "$codec" |
      kcat -b "$b" -P -t "capture-$codec" -z "$codec" -K:
  done
  # Idempotent (InitProducerId, sequenced batch) and transactional (AddPartitionsToTxn, EndTxn,
  # transactional batch) produce.
  printf 'i1:idempotent-1\ni2:idempotent-2\n' | kcat -b "$b" -P -t capture-idempotent -K: -X enable.idempotence=true
  printf 't1:txn-1\nt2:txn-2\n' | kcat -b "$b" -P -t capture-txn -K: -X transactional.id=capture-txn-kcat 2>/dev/null
  for topic in none gzip snappy lz4 zstd idempotent; do
    kcat -b "$b" -C -t "capture-$topic" -o beginning -e -f '%k=%s\n' >/dev/null
  done
  kcat -b "$b" -C -t capture-txn -o beginning -e -X isolation.level=read_committed -f '%k=%s\n' >/dev/null
  # Offsets for a timestamp, the earliest and the latest offset (ListOffsets).
  kcat -b "$b" -Q -t capture-none:0:0 >/dev/null
  kcat -b "$b" -Q -t capture-none:0:-1 >/dev/null
  kcat -b "$b" -Q -t capture-none:0:-2 >/dev/null
  # Balanced consumer group: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, Heartbeat,
  # OffsetCommit, LeaveGroup; long enough for heartbeats and auto-commits. (A second member right
  # after this one waits out the mock's rebalance for longer than is worth it.)
  printf 'g1:group-value-1\ng2:group-value-2\n' | kcat -b "$b" -P -t capture-group -K:
  # No -o: with it kcat assigns explicit offsets and skips reading the committed ones.
  timeout -s INT 8 kcat -b "$b" -G capture-group-kcat capture-group -X auto.offset.reset=earliest \
    -X auto.commit.interval.ms=1000 -X heartbeat.interval.ms=1000 -f '%k=%s\n' >/dev/null || true
}

kafkajs_scenario() {
  node "$here/kafkajs-client.mjs" "$BOOTSTRAP"
}

kafka_python_scenario() {
  /usr/bin/python3 "$here/kafka-python-client.py" "$BOOTSTRAP"
}

which="${1:-all}"
if [[ "$which" == all || "$which" == kcat ]]; then
  with_mock_cluster "kcat-$librdkafka_version" 6 kcat_scenario
fi
if [[ "$which" == all || "$which" == kafkajs ]]; then
  with_mock_cluster "kafkajs-$kafkajs_version" 6 kafkajs_scenario
fi
if [[ "$which" == all || "$which" == kafka-python ]]; then
  with_mock_cluster "kafka-python-$kafka_python_version" 6 kafka_python_scenario
fi
