"""confluent-kafka (librdkafka) transactions against a Sluice broker: init/begin/produce/commit and
abort, read_committed vs read_uncommitted consumers, send_offsets_to_transaction, a zombie
producer fenced by a newer instance of the same transactional.id, and a transaction left open
aborted after its timeout. Usage: confluent_kafka_transactions.py <bootstrap>."""
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
TOPIC = "txn-topic"
OUT = "txn-out"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


admin = AdminClient({"bootstrap.servers": bootstrap})
for name in (TOPIC, OUT):
    admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])[name].result(30)


def producer(txn_id, **extra):
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5, **extra})
    p.init_transactions(30)
    return p


def consume_all(topic, isolation, expect_at_least=0, idle=3.0):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{isolation}-{time.time()}", "isolation.level": isolation,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(2)])
    values = []
    last = time.time()
    while time.time() - last < idle:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise AssertionError(f"consume error {m.error()}")
        values.append(m.value().decode())
        last = time.time()
    c.close()
    return values


# 1. committed and aborted transactions
p = producer("tx-1")
p.begin_transaction()
for i in range(10):
    p.produce(TOPIC, value=f"committed-{i}".encode(), partition=i % 2)
p.commit_transaction(30)
p.begin_transaction()
for i in range(10):
    p.produce(TOPIC, value=f"aborted-{i}".encode(), partition=i % 2)
p.flush(30)
p.abort_transaction(30)
p.begin_transaction()
for i in range(10, 15):
    p.produce(TOPIC, value=f"committed-{i}".encode(), partition=i % 2)
p.commit_transaction(30)

committed = consume_all(TOPIC, "read_committed")
check(sorted(committed) == sorted(f"committed-{i}" for i in range(15)), f"read_committed saw {sorted(committed)}")
everything = consume_all(TOPIC, "read_uncommitted")
check(len([v for v in everything if v.startswith("aborted-")]) == 10, f"read_uncommitted misses aborted records: {everything}")
print("commit/abort: ok")

# 2. consume-transform-produce with offsets in the transaction
group = "txn-group"
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "isolation.level": "read_committed", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
c.subscribe([TOPIC])
seen = []
deadline = time.time() + 60
while len(seen) < 15 and time.time() < deadline:
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    seen.append(m)
check(len(seen) == 15, f"group consumer saw {len(seen)} records")
p.begin_transaction()
for m in seen:
    p.produce(OUT, value=m.value().upper(), partition=m.partition())
positions = c.position(c.assignment())
p.send_offsets_to_transaction(positions, c.consumer_group_metadata(), 30)
p.commit_transaction(30)
committed_offsets = c.committed([TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)], 30)
total = sum(tp.offset for tp in committed_offsets)
check(total > 0, f"transactional offsets not committed: {committed_offsets}")
c.close()
out = consume_all(OUT, "read_committed")
check(sorted(out) == sorted(f"COMMITTED-{i}" for i in range(15)), f"output {sorted(out)}")
print("send_offsets_to_transaction: ok")

# 3. a zombie: a second instance with the same transactional.id fences the first
zombie = producer("tx-zombie")
zombie.begin_transaction()
zombie.produce(TOPIC, value=b"zombie-open", partition=0)
zombie.flush(30)
fresh = producer("tx-zombie")  # aborts the zombie's open transaction, bumps the epoch
try:
    zombie.produce(TOPIC, value=b"zombie-late", partition=0)
    zombie.commit_transaction(30)
    raise AssertionError("zombie committed after being fenced")
except KafkaException as e:
    err = e.args[0]
    check(err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH) or err.fatal(), f"zombie failed with {err}")
fresh.begin_transaction()
fresh.produce(TOPIC, value=b"fresh", partition=0)
fresh.commit_transaction(30)
vals = consume_all(TOPIC, "read_committed")
check("fresh" in vals and "zombie-open" not in vals and "zombie-late" not in vals, f"after fencing: {vals}")
print("fencing: ok")

# 4. a transaction left open is aborted after transaction.timeout.ms
hanging = producer("tx-hanging", **{"transaction.timeout.ms": 2000})
hanging.begin_transaction()
hanging.produce(TOPIC, value=b"hanging", partition=1)
hanging.flush(30)
after = Producer({"bootstrap.servers": bootstrap})
after.produce(TOPIC, value=b"after-hanging", partition=1)
after.flush(30)
deadline = time.time() + 30
vals = []
while time.time() < deadline:
    vals = consume_all(TOPIC, "read_committed", idle=1.0)
    if "after-hanging" in vals:
        break
check("after-hanging" in vals and "hanging" not in vals, f"timed-out transaction still blocks or shows: {vals}")
print("timeout abort: ok")
print("confluent-kafka transactions: ok")
