"""kafka-python and confluent-kafka over SASL_SSL / SASL_PLAINTEXT / SSL against a Sluice broker.
Usage: secure_clients.py <client> <bootstrap> <security.protocol> <mechanism|-> <user> <password> <cafile> <topic> [expect-fail]
Produces three records and reads them back; with expect-fail, succeeds only if the connection is refused."""
import sys

client, bootstrap, protocol, mechanism, user, password, cafile, topic = sys.argv[1:9]
expect_fail = len(sys.argv) > 9
values = [b"a", b"b", b"c"]


def run_kafka_python():
    from kafka import KafkaConsumer, KafkaProducer
    common = {"bootstrap_servers": bootstrap, "security_protocol": protocol, "request_timeout_ms": 8000, "api_version_auto_timeout_ms": 8000}
    if protocol.endswith("SSL"):
        common.update(ssl_cafile=cafile, ssl_check_hostname=False)
    if mechanism != "-":
        common.update(sasl_mechanism=mechanism, sasl_plain_username=user, sasl_plain_password=password)
    producer = KafkaProducer(**common)
    for v in values:
        producer.send(topic, v).get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=8000, **common)
    got = []
    for m in consumer:
        got.append(m.value)
        if len(got) == len(values):
            break
    consumer.close()
    return got


def run_confluent():
    from confluent_kafka import Consumer, Producer
    conf = {"bootstrap.servers": bootstrap, "security.protocol": protocol, "socket.timeout.ms": 8000}
    if protocol.endswith("SSL"):
        conf.update({"ssl.ca.location": cafile, "ssl.endpoint.identification.algorithm": "none"})
    if mechanism != "-":
        conf.update({"sasl.mechanism": mechanism, "sasl.username": user, "sasl.password": password})
    errors = []
    conf["error_cb"] = lambda e: errors.append(e)
    producer = Producer(conf)
    for v in values:
        producer.produce(topic, v)
    left = len(values)
    for _ in range(40):
        left = producer.flush(0.25)
        if left == 0 or errors:
            break
    if left or errors:
        raise RuntimeError(f"produce failed: {errors}")
    consumer = Consumer({**conf, "group.id": "secure-" + topic, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    got = []
    import time
    deadline = time.time() + 15
    while len(got) < 3 and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is not None and m.error() is None:
            got.append(m.value())
    consumer.close()
    return got


try:
    got = run_kafka_python() if client == "kafka-python" else run_confluent()
except Exception as e:  # refused: authentication error, or no broker reachable
    if expect_fail:
        print(f"{client}: refused as expected ({type(e).__name__})")
        sys.exit(0)
    raise
if expect_fail:
    raise SystemExit(f"{client}: connected although it should have been refused")
if got != values:
    raise SystemExit(f"{client}: read back {got}")
print(f"{client}: ok")
