/*
 * delivery.c — a route's guarantee (delivery.h).
 */
#include "sink/delivery.h"

#include <stdio.h>
#include <string.h>

#include <sluice/log.h>

#include "sink/eo.h"
#include "sink/table_probe.h"

int delivery_decide(route_rt *r, ch_http *ch, sluice_error *err)
{
    const app_route_config *c = r->cfg;
    if (c->delivery == APP_DELIVERY_AT_LEAST_ONCE) {
        r->exactly_once = 0;
        snprintf(r->delivery_reason, sizeof r->delivery_reason,
                 "delivery: at_least_once in the route's configuration");
    } else {
        table_probe p;
        int rc = table_probe_run(ch, c, &p, err);
        if (rc) return rc;
        eo_verdict v;
        eo_decide(&p.facts, &v);
        table_probe_free(&p);
        if (!v.exactly_once && c->delivery == APP_DELIVERY_EXACTLY_ONCE)
            return sluice_error_set(err, SLUICE_ECONFIG,
                                    "route %s -> %s: delivery: exactly_once, but %s", c->topic,
                                    c->table, v.reason);
        r->exactly_once = v.exactly_once;
        snprintf(r->delivery_reason, sizeof r->delivery_reason, "%s", v.reason);
    }
    atomic_store(&r->exactly_once_m, r->exactly_once);
    int chosen = r->exactly_once || c->delivery == APP_DELIVERY_AT_LEAST_ONCE;
    sluice_log(chosen ? SLUICE_LOG_INFO : SLUICE_LOG_WARN, "sink",
               r->exactly_once ? "route delivers exactly once" : "route delivers at least once",
               "topic", c->topic, "table", c->table, "why", r->delivery_reason, (char *)0);
    return 0;
}
