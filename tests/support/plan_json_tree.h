/*
 * plan_json_tree.h — the tree-based JSON plan runner kept as the tests'
 * oracle (plan_json_tree.c says why).
 */
#ifndef SLUICE_TEST_PLAN_JSON_TREE_H
#define SLUICE_TEST_PLAN_JSON_TREE_H

#include "codec/plan_int.h"

/* As plan_run() on a plan from plan_compile_json, through a jansson tree. */
int plan_run_tree(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                  buf *out, plan_result *res, sluice_error *err);
int plan_run_json_tree(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                       buf *out, plan_result *res, sluice_error *err);

#endif
