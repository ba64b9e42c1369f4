/*
 * delivery.h — each route's guarantee, decided once at start from what
 * its table can do (table_probe.h, eo_decide): exactly-once where the
 * route asks for it or leaves it to `auto` and the table ignores repeated
 * blocks; at-least-once otherwise, with the reason logged.
 */
#ifndef SLUICE_SINK_DELIVERY_H
#define SLUICE_SINK_DELIVERY_H

#include <sluice/error.h>

#include "sink/ch_http.h"
#include "sink/route.h"

/* Probe r's table over ch and set r->exactly_once and r->delivery_reason.
 * 0 when decided; SLUICE_ECONFIG when the route demands exactly_once and
 * the table cannot (err says why); another code when ClickHouse could not
 * be asked (retry). */
int delivery_decide(route_rt *r, ch_http *ch, sluice_error *err);

#endif
