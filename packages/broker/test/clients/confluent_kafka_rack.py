"""confluent-kafka consumer with client.rack (KIP-392): reads N records of a topic's partition 0
from the beginning and prints each offset once; the test checks which broker served them."""
import sys
import time

from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

bootstrap, topic, rack, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
consumer = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': 'rack-reader',
    'client.rack': rack,
    'enable.auto.commit': False,
    'fetch.wait.max.ms': 200,
})
consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
offsets = []
deadline = time.time() + 60
while len(offsets) < expected and time.time() < deadline:
    message = consumer.poll(0.5)
    if message is None:
        continue
    if message.error():
        print('error', message.error(), flush=True)
        continue
    offsets.append(message.offset())
consumer.close()
print('offsets', ','.join(str(o) for o in offsets), flush=True)
sys.exit(0 if offsets == list(range(expected)) else 1)
