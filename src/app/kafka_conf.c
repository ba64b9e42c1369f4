/*
 * kafka_conf.c — see kafka_conf.h. Order matters: defaults first (sluice's
 * choices the user may change), then the user's properties, then the forced
 * settings (sluice's guarantees).
 */
#include "app/kafka_conf.h"

#include <sluice/log.h>

#include <string.h>

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, const char *origin,
               sluice_error *err)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK)
        return sluice_error_set(err, SLUICE_ECONFIG, "%s: %s = '%s': %s", origin, name, value, why);
    return 0;
}

rd_kafka_conf_t *kafka_conf_new(const char *brokers, const cfg_map *user,
                                const kafka_setting *forced, size_t n_forced,
                                const kafka_setting *defaults, size_t n_defaults, sluice_error *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
        return NULL;
    }
    int rc = brokers ? set(conf, "bootstrap.servers", brokers, "kafka.brokers", err) : 0;
    for (size_t i = 0; rc == 0 && i < n_defaults; i++)
        rc = set(conf, defaults[i].name, defaults[i].value, "sluice default", err);
    for (size_t i = 0; rc == 0 && user && i < user->n; i++) {
        int overridden = 0;
        for (size_t k = 0; k < n_forced; k++)
            overridden |= strcmp(user->keys[i], forced[k].name) == 0;
        if (overridden) {
            sluice_log(SLUICE_LOG_WARN, "kafka", "property ignored: sluice needs its own value",
                       "property", user->keys[i], (char *)0);
            continue;
        }
        char origin[300];
        snprintf(origin, sizeof origin, "kafka.properties.%s", user->keys[i]);
        rc = set(conf, user->keys[i], user->values[i], origin, err);
    }
    for (size_t i = 0; rc == 0 && i < n_forced; i++)
        rc = set(conf, forced[i].name, forced[i].value, "sluice", err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}
