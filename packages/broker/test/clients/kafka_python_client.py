"""kafka-python against a Sluice broker: admin, keyed produce with every codec, consume from the
beginning, from an offset and from a timestamp (no consumer group: manual assignment).
Usage: kafka_python_client.py <bootstrap>. Exits non-zero with a message on the first failure."""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import InvalidTopicError, TopicAlreadyExistsError, InvalidConfigurationError, InvalidPartitionsError

bootstrap = sys.argv[1]
TOPIC = "py-topic"
CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-test")
admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1, topic_configs={"retention.ms": "86400000"})])
try:
    admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)])
    raise AssertionError("creating an existing topic succeeded")
except TopicAlreadyExistsError:
    pass
try:
    admin.create_topics([NewTopic("no spaces allowed", num_partitions=1, replication_factor=1)])
    raise AssertionError("an invalid topic name was accepted")
except InvalidTopicError:
    pass
check(TOPIC in admin.list_topics(), "list_topics misses the topic")

described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
entries = {e[0]: e[1] for e in described[0].resources[0][4]}
check(entries.get("retention.ms") == "86400000", f"retention.ms is {entries.get('retention.ms')}")
admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs={"retention.ms": "3600000"})])
described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
entries = {e[0]: e[1] for e in described[0].resources[0][4]}
check(entries.get("retention.ms") == "3600000", f"after alter retention.ms is {entries.get('retention.ms')}")
bad = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs={"retention.ms": "later"})])
check(bad.resources[0][0] == InvalidConfigurationError.errno, f"bad config answered {bad.resources[0]}")

expected = []
for codec in CODECS:
    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, acks=1, linger_ms=5)
    for i in range(100):
        key = f"{codec}-k{i % 5}".encode()
        value = f"{codec}-v{i}".encode()
        producer.send(TOPIC, key=key, value=value, partition=0)
        expected.append((key, value))
    producer.flush()
    producer.close()

tp = TopicPartition(TOPIC, 0)


def consume(start, count):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, consumer_timeout_ms=10000)
    consumer.assign([tp])
    if start == "beginning":
        consumer.seek_to_beginning(tp)
    else:
        consumer.seek(tp, start)
    got = []
    for message in consumer:
        got.append(message)
        if len(got) == count:
            break
    consumer.close()
    return got


everything = consume("beginning", len(expected))
check([(m.key, m.value) for m in everything] == expected, "records read back differ from those produced")
check([m.offset for m in everything] == list(range(len(expected))), "offsets are not dense from 0")
tail = consume(495, 5)
check([m.offset for m in tail] == [495, 496, 497, 498, 499], f"from offset 495 got {[m.offset for m in tail]}")

time.sleep(0.05)
boundary = int(time.time() * 1000)
time.sleep(0.05)
producer = KafkaProducer(bootstrap_servers=bootstrap)
producer.send(TOPIC, key=b"late", value=b"after", partition=0)
producer.flush()
producer.close()
consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
found = consumer.offsets_for_times({tp: boundary})
check(found[tp] is not None and found[tp].offset == 500, f"offsets_for_times gave {found[tp]}")
check(consumer.beginning_offsets([tp])[tp] == 0 and consumer.end_offsets([tp])[tp] == 501, "beginning/end offsets")
consumer.close()

admin.create_partitions({TOPIC: NewPartitions(total_count=3)})
try:
    admin.create_partitions({TOPIC: NewPartitions(total_count=2)})
    raise AssertionError("shrinking partitions succeeded")
except InvalidPartitionsError:
    pass
check(len(admin.describe_topics([TOPIC])[0]["partitions"]) == 3, "partition count after create_partitions")
admin.delete_topics([TOPIC])
check(TOPIC not in admin.list_topics(), "topic still listed after delete")
admin.close()
print("kafka-python: ok")
