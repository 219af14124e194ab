"""confluent-kafka transactions across a broker killed with -9. Usage:
  confluent_kafka_txn_restart.py <bootstrap> before   commits a transaction, leaves a second one open
  confluent_kafka_txn_restart.py <bootstrap> after    (restarted broker) a new instance of the same
                                                       transactional.id aborts the open one; read_committed
                                                       sees the committed records only, and is not blocked"""
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, phase = sys.argv[1], sys.argv[2]
TOPIC = "restart-txn"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def consume(isolation, idle=3.0):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"r-{time.time()}", "isolation.level": isolation, "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
    values, last = [], time.time()
    while time.time() - last < idle:
        m = c.poll(0.5)
        if m is None or (m.error() and m.error().code() == KafkaError._PARTITION_EOF):
            continue
        check(not m.error(), f"consume error {m.error()}")
        values.append(m.value().decode())
        last = time.time()
    c.close()
    return values


if phase == "before":
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)])[TOPIC].result(30)
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "restart-1", "transaction.timeout.ms": 600000})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(5):
        p.produce(TOPIC, value=f"committed-{i}".encode(), partition=0)
    p.commit_transaction(30)
    p.begin_transaction()
    for i in range(5):
        p.produce(TOPIC, value=f"open-{i}".encode(), partition=0)
    check(p.flush(30) == 0, "open transaction not flushed")
    check(consume("read_committed", idle=2.0) == [f"committed-{i}" for i in range(5)], "read_committed before the kill")
    print("before: ok")
else:
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "restart-1"})
    p.init_transactions(60)
    p.begin_transaction()
    p.produce(TOPIC, value=b"after", partition=0)
    p.commit_transaction(30)
    values = consume("read_committed")
    check(values == [f"committed-{i}" for i in range(5)] + ["after"], f"read_committed after restart: {values}")
    everything = consume("read_uncommitted")
    check(len([v for v in everything if v.startswith("open-")]) == 5, f"read_uncommitted after restart: {everything}")
    print("after: ok")
