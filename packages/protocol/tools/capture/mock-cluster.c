/*
 * Starts librdkafka's in-process mock Kafka cluster on loopback, creates the capture topics,
 * prints the bootstrap list on stdout and serves until stdin closes (or SIGINT/SIGTERM).
 * Used only to record real clients' bytes (see capture.sh); never built by CI.
 *
 *   gcc -O1 -o mock-cluster mock-cluster.c -lrdkafka
 *   ./mock-cluster <brokers> < fifo
 *
 * The mock implements no CreateTopics, so the topics are created here.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static const char *const topics[] = {
    "capture-none", "capture-gzip", "capture-snappy", "capture-lz4", "capture-zstd", "capture-group",
    "capture-idempotent", "capture-txn",
};

int main(int argc, char **argv) {
  int broker_count = argc > 1 ? atoi(argv[1]) : 3;
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The handle only hosts the mock cluster's thread; it never connects anywhere. */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }
  rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, broker_count);
  if (!cluster) { fprintf(stderr, "rd_kafka_mock_cluster_new failed\n"); return 1; }
  for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, topics[i], 1, 1);
    if (err) { fprintf(stderr, "topic %s: %s\n", topics[i], rd_kafka_err2str(err)); return 1; }
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  fflush(stdout);
  char buf[64];
  while (!stop_requested && read(0, buf, sizeof(buf)) > 0) {}
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
