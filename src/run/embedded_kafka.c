/*
 * embedded_kafka.c — see embedded_kafka.h.
 *
 * Ownership: the cluster belongs to a producer handle that never produces
 * (librdkafka ties a mock cluster to an rd_kafka_t); destroying the handle
 * after the cluster tears everything down.
 */
#include "run/embedded_kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdio.h>
#include <stdlib.h>

struct embedded_kafka {
    rd_kafka_t *owner;
    rd_kafka_mock_cluster_t *mc;
};

int embedded_kafka_start(int brokers, embedded_kafka **out, sluice_error *err)
{
    *out = NULL;
    embedded_kafka *k = calloc(1, sizeof *k);
    if (!k) return sluice_error_set(err, SLUICE_ENOMEM, "embedded kafka: out of memory");
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    k->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!k->owner) {
        rd_kafka_conf_destroy(conf);
        free(k);
        return sluice_error_set(err, SLUICE_EIO, "embedded kafka: %s", errstr);
    }
    k->mc = rd_kafka_mock_cluster_new(k->owner, brokers);
    if (!k->mc) {
        rd_kafka_destroy(k->owner);
        free(k);
        return sluice_error_set(err, SLUICE_EIO, "embedded kafka: cannot create the mock cluster");
    }
    *out = k;
    return 0;
}

const char *embedded_kafka_bootstrap(const embedded_kafka *k)
{
    return rd_kafka_mock_cluster_bootstraps(k->mc);
}

int embedded_kafka_create_topic(embedded_kafka *k, const char *topic, int partitions,
                                sluice_error *err)
{
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(k->mc, topic, partitions, 1);
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        return sluice_error_set(err, SLUICE_EIO, "embedded kafka: topic %s: %s", topic,
                                rd_kafka_err2str(e));
    return 0;
}

void embedded_kafka_stop(embedded_kafka *k)
{
    if (!k) return;
    rd_kafka_mock_cluster_destroy(k->mc);
    rd_kafka_destroy(k->owner);
    free(k);
}
