"""confluent-kafka (librdkafka) as an acks=all producer under chaos, for cluster-chaos-clients.test.ts.

usage: confluent_chaos_producer.py BOOTSTRAP TOPIC PARTITION PREFIX IDEMPOTENT(0|1)

Produces PREFIX:0, PREFIX:1, ... to one partition, ten every 50 ms, until stdin closes; then
flushes. Every record the broker acknowledges is printed on stdout as "ack VALUE" the moment its
delivery report arrives, every failure on stderr, so the test knows exactly what was acknowledged.
"""
import os
import sys
import threading
import time

from confluent_kafka import Producer

bootstrap, topic, partition, prefix, idempotent = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == '1'
producer = Producer({
    'bootstrap.servers': bootstrap,
    'acks': 'all',
    'enable.idempotence': idempotent,
    # Not idempotent: no retries, so nothing can be written twice; a failed send is simply not acknowledged.
    'retries': 2147483647 if idempotent else 0,
    'linger.ms': 5,
    'request.timeout.ms': 5000,
    'message.timeout.ms': 120000,
    'topic.metadata.refresh.interval.ms': 1000,
    # SLUICE_CHAOS_DEBUG=eos,broker,... turns on librdkafka's debug contexts when a stall needs explaining.
    **({'debug': os.environ['SLUICE_CHAOS_DEBUG']} if os.environ.get('SLUICE_CHAOS_DEBUG') else {}),
})
stdin_closed = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stdin_closed.set()), daemon=True).start()


def delivered(err, msg):
    if err is None:
        sys.stdout.write('ack %s\n' % msg.value().decode())
        sys.stdout.flush()
    else:
        sys.stderr.write('failed %s: %s\n' % (msg.value().decode(), err))
        sys.stderr.flush()


n = 0
while not stdin_closed.is_set():
    for _ in range(10):
        producer.produce(topic, value=('%s:%d' % (prefix, n)).encode(), partition=partition, on_delivery=delivered)
        n += 1
    producer.poll(0.05)
left = producer.flush(120)
sys.stderr.write('done: %d produced, %d undelivered\n' % (n, left))
sys.exit(0 if left == 0 else 1)
