// ingest_types.js — reads JSON-Schema messages `sluice ingest` produced
// (tests/compat/ingest_types.sh) with kafkajs and decodes each with
// @kafkajs/confluent-schema-registry, which fetches the schema for the
// frame's id (and its references) from `sluice registry` and validates the
// value with ajv — code that shares nothing with sluice. Every value must
// equal an event sent (SENT_FILE, one JSON event a line), each once.
// (ajv knows no "format" without the ajv-formats package, which this
// client does not bring: formats are left unchecked here; sluice's own
// validator checked them before producing.)
//
// usage: node ingest_types.js BOOTSTRAP TOPIC REGISTRY_URL SENT_FILE
// Prints "ok N" or the first problem.
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const [bootstrap, topic, registryUrl, sentFile] = process.argv.slice(2);
const sent = fs.readFileSync(sentFile, 'utf8').split('\n').filter((l) => l);
const left = new Map();
for (const l of sent) {
  const k = JSON.stringify(JSON.parse(l));
  left.set(k, (left.get(k) || 0) + 1);
}

async function main() {
  const registry = new SchemaRegistry({ host: registryUrl },
    { [SchemaType.JSON]: { validateFormats: false } });
  const kafka = new Kafka({ brokers: bootstrap.split(','), logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `types-${topic}`, sessionTimeout: 4000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
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
        const k = JSON.stringify(value);
        if (!left.get(k) && !problem) problem = `decoded ${k}, which was not sent (or came twice)`;
        left.set(k, (left.get(k) || 0) - 1);
        if (++n === sent.length) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  console.log(problem ? `FAIL ${problem}` : `ok ${n}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
