#!/usr/bin/python3
"""push_events.py — sample events for `make run`: POST N page events of
examples/events.avsc to sluice ingest as NDJSON batches over one keep-alive
connection, with a progress bar, honouring 429/503 Retry-After.

    push_events.py URL N [--batch 500] [--base-id ID]

URL is the ingest topic endpoint (http://127.0.0.1:8080/v1/topics/events).
Event ids are BASE_ID .. BASE_ID+N-1 so a run's rows can be counted apart
from earlier runs'. Prints a last line `sent=N seconds=S retries=R`.
Exit 1 when a request gets an answer other than 200/429/503.
"""
import argparse
import http.client
import json
import random
import sys
import time
import urllib.parse

KINDS = ["VIEW", "VIEW", "VIEW", "CLICK", "PURCHASE"]
PATHS = ["/", "/pricing", "/docs", "/docs/install", "/blog/sluice", "/cart", "/checkout"]


def event(i, base, rnd):
    return {
        "id": base + i,
        "kind": rnd.choice(KINDS),
        "at": int(time.time() * 1000) - rnd.randrange(0, 3_600_000),
        "user": None if i % 11 == 0 else "user-%d" % rnd.randrange(0, 500),
        "path": rnd.choice(PATHS),
        "duration_ms": rnd.randrange(0, 30_000),
        "tags": rnd.sample(["new", "mobile", "eu", "us", "beta"], rnd.randrange(0, 3)),
    }


def bar(done, total, started, tty):
    rate = done / max(time.monotonic() - started, 1e-6)
    if tty:
        width = 40
        filled = width * done // max(total, 1)
        sys.stderr.write("\r  [%s%s] %d/%d events  %.0f ev/s " % (
            "#" * filled, "." * (width - filled), done, total, rate))
        if done == total:
            sys.stderr.write("\n")
    else:
        sys.stderr.write("  %d/%d events  %.0f ev/s\n" % (done, total, rate))
    sys.stderr.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("n", type=int)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--base-id", type=int, default=0)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    rnd = random.Random(a.base_id)
    tty = sys.stderr.isatty()
    started = time.monotonic()
    sent = retries = 0
    last_report = 0.0
    while sent < a.n:
        k = min(a.batch, a.n - sent)
        body = "".join(json.dumps(event(sent + j, a.base_id, rnd)) + "\n" for j in range(k))
        while True:
            try:
                conn.request("POST", u.path, body=body.encode(),
                             headers={"Content-Type": "application/x-ndjson"})
                r = conn.getresponse()
                text = r.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                retries += 1
                if retries > 1000:
                    print("push_events: giving up: %s" % e, file=sys.stderr)
                    return 1
                time.sleep(0.5)
                continue
            if r.status == 200:
                break
            if r.status in (429, 503):
                retries += 1
                time.sleep(min(float(r.getheader("Retry-After") or 1), 5.0))
                continue
            print("\npush_events: HTTP %d: %s" % (r.status, text.decode(errors="replace")),
                  file=sys.stderr)
            return 1
        sent += k
        now = time.monotonic()
        if tty or now - last_report >= 1.0 or sent == a.n:
            bar(sent, a.n, started, tty)
            last_report = now
    print("sent=%d seconds=%.3f retries=%d" % (sent, time.monotonic() - started, retries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
