"""confluent-kafka (librdkafka) against a Sluice broker: admin, keyed produce with every codec,
consume from the beginning, from an offset and from a timestamp by manual assignment.
Usage: confluent_kafka_client.py <bootstrap>. Exits non-zero with a message on the first failure."""
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap = sys.argv[1]
TOPIC = "ck-topic"
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1, config={"retention.ms": "86400000"})])[TOPIC].result(30)
try:
    admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)])[TOPIC].result(30)
    raise AssertionError("creating an existing topic succeeded")
except Exception as e:  # KafkaException wrapping TOPIC_ALREADY_EXISTS
    check(e.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS, f"duplicate create failed with {e}")
try:
    admin.create_topics([NewTopic("bad/name", num_partitions=1, replication_factor=1)])["bad/name"].result(30)
    raise AssertionError("an invalid topic name was accepted")
except Exception as e:
    check(e.args[0].code() == KafkaError.TOPIC_EXCEPTION, f"invalid name failed with {e}")
check(TOPIC in admin.list_topics(timeout=30).topics, "list_topics misses the topic")

resource = ConfigResource("topic", TOPIC)
configs = admin.describe_configs([resource])[resource].result(30)
check(configs["retention.ms"].value == "86400000", f"retention.ms is {configs['retention.ms'].value}")
check(configs["retention.ms"].source == 1, "retention.ms should be a topic override")
admin.alter_configs([ConfigResource("topic", TOPIC, set_config={"retention.ms": "3600000"})])[ConfigResource("topic", TOPIC)].result(30)
configs = admin.describe_configs([resource])[resource].result(30)
check(configs["retention.ms"].value == "3600000", "alter_configs did not apply")
broker_resource = ConfigResource("broker", "1")
broker_configs = admin.describe_configs([broker_resource])[broker_resource].result(30)
check(broker_configs["num.partitions"].value == "1", "broker num.partitions")

expected = []
for codec in CODECS:
    producer = Producer({"bootstrap.servers": bootstrap, "compression.codec": codec, "linger.ms": 5, "acks": "all"})
    for i in range(100):
        key = f"{codec}-k{i % 5}".encode()
        value = f"{codec}-v{i}".encode()
        producer.produce(TOPIC, key=key, value=value, partition=0)
        expected.append((key, value))
    check(producer.flush(30) == 0, f"{codec}: messages left unflushed")

# A group id is mandatory for librdkafka consumers; with manual assignment and no commits it
# never needs the group coordinator.
base = {"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False, "enable.auto.offset.store": False}


def consume(offset, count):
    consumer = Consumer(base)
    consumer.assign([TopicPartition(TOPIC, 0, offset)])
    got = []
    deadline = time.time() + 30
    while len(got) < count and time.time() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        check(message.error() is None, f"consume error {message.error()}")
        got.append(message)
    consumer.close()
    return got


everything = consume(OFFSET_BEGINNING, len(expected))
check([(m.key(), m.value()) for m in everything] == expected, "records read back differ from those produced")
tail = consume(495, 5)
check([m.offset() for m in tail] == [495, 496, 497, 498, 499], f"from offset 495 got {[m.offset() for m in tail]}")

time.sleep(0.05)
boundary = int(time.time() * 1000)
time.sleep(0.05)
producer = Producer({"bootstrap.servers": bootstrap})
producer.produce(TOPIC, key=b"late", value=b"after", partition=0)
producer.flush(30)
consumer = Consumer(base)
found = consumer.offsets_for_times([TopicPartition(TOPIC, 0, boundary)], timeout=30)
check(found[0].offset == 500, f"offsets_for_times gave {found[0].offset}")
low, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=30)
check((low, high) == (0, 501), f"watermarks {(low, high)}")
consumer.close()
late = consume(500, 1)
check(late[0].key() == b"late", "the record after the timestamp")

admin.create_partitions([NewPartitions(TOPIC, 3)])[TOPIC].result(30)
try:
    admin.create_partitions([NewPartitions(TOPIC, 2)])[TOPIC].result(30)
    raise AssertionError("shrinking partitions succeeded")
except Exception as e:
    check(e.args[0].code() == KafkaError.INVALID_PARTITIONS, f"shrink failed with {e}")
check(len(admin.list_topics(TOPIC, timeout=30).topics[TOPIC].partitions) == 3, "partition count")
admin.delete_topics([TOPIC])[TOPIC].result(30)
check(TOPIC not in admin.list_topics(timeout=30).topics, "topic still listed after delete")
print("confluent-kafka: ok")
