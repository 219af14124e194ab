#!/usr/bin/python3
"""Drives kafka-python (Debian python3-kafka) against the mock cluster at argv[1].

Produces with every codec (python3-snappy, python3-lz4 and python3-zstandard provide the ones that
are not built in), reads every topic back, runs a consumer group that commits and leaves, asks for
offsets by time and by position, and finally sends a CreateTopics request (see below).
"""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: F401
from kafka.client_async import KafkaClient
from kafka.protocol.admin import CreateTopicsRequest

brokers = sys.argv[1].split(',')
client_id = 'sluice-capture-kafka-python'
expected = {}

for codec in ['none', 'gzip', 'snappy', 'lz4', 'zstd']:
    producer = KafkaProducer(bootstrap_servers=brokers, client_id=client_id, acks='all',
                             compression_type=None if codec == 'none' else codec, linger_ms=20)
    topic = 'capture-' + codec
    for i in (1, 2):
        # Padded: kafka-python sends a batch uncompressed when compressing does not shrink it.
        key, value = 'key-%s-%d' % (codec, i), 'value-%s-%d' % (codec, i) + '.' * 64
        producer.send(topic, key=key.encode(), value=value.encode(), headers=[('codec', codec.encode())])
        expected[(topic, key)] = value
    producer.flush()
    producer.close()

producer = KafkaProducer(bootstrap_servers=brokers, client_id=client_id, acks='all')
for key, value in (('g1', 'group-value-1'), ('g2', 'group-value-2')):
    producer.send('capture-group', key=key.encode(), value=value.encode())
    expected[('capture-group', key)] = value
producer.flush()
producer.close()

# Plain consumer: ListOffsets (earliest, latest, by time) and Fetch of every codec's batch.
reader = KafkaConsumer(bootstrap_servers=brokers, client_id=client_id, group_id=None,
                       enable_auto_commit=False, consumer_timeout_ms=3000)
partitions = [TopicPartition('capture-' + c, 0) for c in ['none', 'gzip', 'snappy', 'lz4', 'zstd']]
reader.assign(partitions)
reader.beginning_offsets(partitions)
reader.end_offsets(partitions)
reader.offsets_for_times({partitions[0]: 0})
reader.seek_to_beginning()
received = {}
deadline = time.time() + 20
while len(received) < 10 and time.time() < deadline:
    for records in reader.poll(timeout_ms=500).values():
        for r in records:
            received[(r.topic, r.key.decode())] = r.value.decode()
reader.close()

# Consumer group: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, Heartbeat, OffsetCommit,
# LeaveGroup.
consumer = KafkaConsumer('capture-group', bootstrap_servers=brokers, client_id=client_id,
                         group_id='capture-group-kafka-python', auto_offset_reset='earliest',
                         enable_auto_commit=True, auto_commit_interval_ms=500,
                         heartbeat_interval_ms=500, session_timeout_ms=10000)
deadline = time.time() + 30
while len([k for k in received if k[0] == 'capture-group']) < 2 and time.time() < deadline:
    for records in consumer.poll(timeout_ms=500).values():
        for r in records:
            received[(r.topic, r.key.decode())] = r.value.decode()
end = time.time() + 2  # let heartbeats and an auto-commit go out
while time.time() < end:
    consumer.poll(timeout_ms=200)
consumer.commit()
consumer.close()

if received != expected:
    sys.exit('kafka-python read %r, expected %r' % (received, expected))

# The mock implements no CreateTopics and does not advertise it, so KafkaAdminClient would refuse
# to send one. kafka-python's own CreateTopics encoder is used directly instead, at its highest
# version; the mock drops the connection instead of answering.
client = KafkaClient(bootstrap_servers=brokers, client_id=client_id)
node = client.least_loaded_node()
deadline = time.time() + 10
while not client.ready(node) and time.time() < deadline:
    client.poll(timeout_ms=100)
request = CreateTopicsRequest[-1](
    create_topic_requests=[('capture-created', 2, 1, [], [('cleanup.policy', 'compact')])],
    timeout=2000, validate_only=False)
future = client.send(node, request)
deadline = time.time() + 5
while not future.is_done and time.time() < deadline:
    client.poll(timeout_ms=100)
print('createTopics: %s' % (future.exception if future.failed() else future.value))
client.close()
print('kafka-python: produced and consumed %d messages' % len(expected))
