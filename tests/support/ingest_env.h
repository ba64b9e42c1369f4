/*
 * ingest_env.h — the world an ingest test runs in, all real: the mock Kafka
 * cluster in its own process, `sluice registry`, and `sluice ingest` as a
 * process configured with the caller's `ingest:` section.
 */
#ifndef SLUICE_TEST_INGEST_ENV_H
#define SLUICE_TEST_INGEST_ENV_H

#include <sluice/sr.h>

#include "kafka.h"
#include "support.h"

typedef struct ingest_env {
    char *dir;
    test_kafka kafka;
    test_proc reg, ingest;
    char reg_url[64];
    sluice_sr *sr;
    char host_port[64]; /* 127.0.0.1:PORT of the ingest listener */
} ingest_env;

/* Start Kafka (one broker), the registry, and a client for it. */
int ingest_env_start(ingest_env *e, const char *name);
/* Write <dir>/ingest.yaml (log, metrics, kafka, registry, then `ingest_yaml`
 * verbatim, which must contain `listen: 127.0.0.1:0`) and start
 * `sluice ingest -c` on it; host_port is set from its log. */
int ingest_env_run(ingest_env *e, const char *ingest_yaml);
/* SIGTERM the ingest process; its exit status as test_proc_stop. */
int ingest_env_stop_ingest(ingest_env *e);
void ingest_env_stop(ingest_env *e);

#endif
