#!/usr/bin/python3
"""A peer for bench_sink: the Kafka → ClickHouse consumer a team would write
with Debian's python3-confluent-kafka and python3-clickhouse-driver. One
consumer in a group, batches of BATCH messages, JSON parsed per message,
one INSERT per batch over the native protocol, offsets committed after the
INSERT (at-least-once, like sluice).

usage: peer_sink_python.py BOOTSTRAP TOPIC GROUP CH_TCP_PORT TABLE EVENTS
prints: first_message_s, done_s (since start), rows, inserts
"""
import datetime
import json
import sys
import time

from clickhouse_driver import Client
from confluent_kafka import Consumer

bootstrap, topic, group, port, table, want = sys.argv[1:7]
port, want = int(port), int(want)
BATCH = 50000
COLS = ["event_id", "ts", "user_id", "type", "url", "referrer", "duration_ms", "amount",
        "device", "consent"]

t0 = time.monotonic()
ch = Client(host="127.0.0.1", port=port)
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
              "auto.offset.reset": "earliest", "enable.auto.commit": False,
              "session.timeout.ms": 6000})
c.subscribe([topic])
rows, inserts, first = 0, 0, None
insert_sql = "INSERT INTO %s (%s) VALUES" % (table, ", ".join(COLS))
while rows < want:
    msgs = c.consume(num_messages=BATCH, timeout=1.0)
    batch = []
    for m in msgs:
        if m.error():
            raise SystemExit("consume error: %s" % m.error())
        if first is None:
            first = time.monotonic() - t0
        e = json.loads(m.value())
        batch.append((e["event_id"],
                      datetime.datetime.strptime(e["ts"], "%Y-%m-%d %H:%M:%S"),
                      e["user_id"], e["type"], e["url"], e["referrer"], e["duration_ms"],
                      e["amount"], e["device"], e["consent"]))
    if batch:
        ch.execute(insert_sql, batch)
        inserts += 1
        rows += len(batch)
        c.commit(asynchronous=False)
c.close()
print("first_message_s: %.3f" % first)
print("done_s: %.3f" % (time.monotonic() - t0))
print("rows: %d" % rows)
print("inserts: %d" % inserts)
