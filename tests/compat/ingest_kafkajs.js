// ingest_kafkajs.js — reads what `sluice ingest` produced with kafkajs and
// decodes it with @kafkajs/confluent-schema-registry (avsc underneath),
// code that shares nothing with sluice, against `sluice registry`.
// Compares every value with the event sent (sent.ndjson, one per line, in
// order) and checks the key and the order per key.
//
// usage: node ingest_kafkajs.js BOOTSTRAP TOPIC REGISTRY_URL SENT_FILE
// Prints "ok N" or the first mismatch.
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

const [bootstrap, topic, registryUrl, sentFile] = process.argv.slice(2);
const sent = fs.readFileSync(sentFile, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));

// Avro's JSON encoding wraps non-null union values: {"string": "x"} → "x".
function plain(ev) {
  const out = {};
  for (const [k, v] of Object.entries(ev))
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 &&
      ['string', 'long', 'int', 'double'].includes(Object.keys(v)[0]) ? Object.values(v)[0] : v;
  return out;
}

async function main() {
  const registry = new SchemaRegistry({ host: registryUrl });
  const kafka = new Kafka({ brokers: bootstrap.split(','), logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: 'ingest-compat', sessionTimeout: 4000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const lastSeq = new Map();
  let n = 0;
  let problem = null;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${n} messages`)), 60000);
    consumer.run({
      eachMessage: async ({ message }) => {
        let value;
        try {
          value = await registry.decode(message.value);
        } catch (e) {
          clearTimeout(timer);
          reject(e);
          return;
        }
        const want = plain(sent[Number(value.seq)]);
        const got = { ...value, ms: Number(value.ms) };
        if (JSON.stringify(got) !== JSON.stringify(want) && !problem)
          problem = `value ${JSON.stringify(got)} != sent ${JSON.stringify(want)}`;
        const key = message.key.toString();
        if (key !== want.user && !problem) problem = `key ${key} != user ${want.user}`;
        if ((lastSeq.get(key) ?? -1) >= value.seq && !problem) problem = `key ${key}: seq ${value.seq} after ${lastSeq.get(key)}`;
        lastSeq.set(key, value.seq);
        if (++n === sent.length) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  console.log(problem ? `FAIL ${problem}` : `ok ${n}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
