"""A consume-transform-produce processor with exactly-once semantics (confluent-kafka/librdkafka):
reads <input> in group <group> (static member <instance>, read_committed), writes each record to
<output> with ":T" appended to its value (same key and partition), and commits the consumed
offsets inside each transaction. Any error ends the process with status 1: its next instance (same
transactional.id) fences it and aborts what it left open, as a crashed processor's would.
Usage: confluent_kafka_eos_processor.py <bootstrap> <input> <output> <group> <transactional.id> <instance>"""
import sys
import time

from confluent_kafka import Consumer, Producer

bootstrap, source, sink, group, txn_id, instance = sys.argv[1:7]
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "group.instance.id": instance,
    "isolation.level": "read_committed",
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "session.timeout.ms": 10000,
})
producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "transaction.timeout.ms": 10000, "linger.ms": 2})
producer.init_transactions(30)
consumer.subscribe([source])
print("ready", flush=True)
while True:
    records = [m for m in consumer.consume(num_messages=10, timeout=0.5) if not m.error()]
    if not records:
        continue
    producer.begin_transaction()
    for m in records:
        producer.produce(sink, key=m.key(), value=m.value() + b":T", partition=m.partition())
    # The work a real transform does: it widens the window a kill can fall into.
    time.sleep(0.1)
    producer.send_offsets_to_transaction(consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30)
    producer.commit_transaction(30)
    print(f"committed {len(records)}", flush=True)
