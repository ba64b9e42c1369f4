/*
 * kafka_conf.h — one way to configure every librdkafka client sluice
 * creates (sink consumer, DLQ producer, ingest producer): the bootstrap
 * servers, then the user's kafka.properties as given, then the settings
 * sluice's guarantees depend on, which the user cannot override (each such
 * override is logged as a warning, naming the property).
 */
#ifndef SLUICE_APP_KAFKA_CONF_H
#define SLUICE_APP_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include <sluice/error.h>

#include "common/config.h"

typedef struct kafka_setting {
    const char *name;
    const char *value;
} kafka_setting;

/* A new conf (the caller owns it), or NULL with err naming the bad property
 * and value as librdkafka reported it. */
rd_kafka_conf_t *kafka_conf_new(const char *brokers, const cfg_map *user,
                                const kafka_setting *forced, size_t n_forced,
                                const kafka_setting *defaults, size_t n_defaults,
                                sluice_error *err);

#endif
