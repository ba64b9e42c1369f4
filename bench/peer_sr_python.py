#!/usr/bin/python3
"""The peer for bench_sr's cold-miss figure: Debian's python3-confluent-kafka
Schema Registry client, one client shared by N threads, all asking for the
same id (not yet cached) at once. The registry's /metrics counts what it costs.

usage: peer_sr_python.py REGISTRY_URL SCHEMA_ID THREADS
"""
import sys
import threading

from confluent_kafka.schema_registry import SchemaRegistryClient

url, schema_id, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
client = SchemaRegistryClient({"url": url})
barrier = threading.Barrier(n)
errors = []


def worker():
    barrier.wait()
    try:
        client.get_schema(schema_id)
    except Exception as e:  # report, do not hide
        errors.append(repr(e))


threads = [threading.Thread(target=worker) for _ in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("errors=%d %s" % (len(errors), errors[:1]), flush=True)
