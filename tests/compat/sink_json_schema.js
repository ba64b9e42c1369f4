// sink_json_schema.js — the npm half of tests/compat/sink_json_schema.sh:
// @kafkajs/confluent-schema-registry (code that shares nothing with sluice)
// registers the same draft-07 schema as the Python producer in `sluice
// registry` — its "geo" property a $ref into another subject's document,
// registered first, so the sink resolves a reference — encodes every event
// (ajv validates it) and kafkajs produces the frames. Every event is
// written to SENT_FILE as the JSON text sent, for sink_json_schema.py's
// check.
//
// (ajv knows no "format" without the ajv-formats package, which this
// client does not bring: formats are left unchecked on this side; the sink
// checks them before a message lands.)
//
// usage: node sink_json_schema.js REGISTRY_URL BOOTSTRAP TOPIC N SENT_FILE SCHEMA_JSON
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const [registryUrl, bootstrap, topic, nText, sentFile, schemaText] = process.argv.slice(2);
const n = Number(nText);
const GEO_ID = 'https://example.com/geo.json';

function event(i) {
  const at = new Date(Date.UTC(2024, 5, 1) + i * 97001).toISOString();
  const e = { id: i, user: `n${i}-\u00fc\u20ac\u{1F600}`, at };
  if (i % 4 === 0) e.score = i + 0.5;
  else if (i % 4 === 1) e.score = null;
  else if (i % 4 === 2) e.score = i * 3;
  if (i % 3) e.ok = i % 2 === 1;
  if (i % 5) e.day = new Date(Date.UTC(2023, 11, 31) + i * 86400000).toISOString().slice(0, 10);
  if (i % 6) e.uid = `0000${((i * 7919) % 65536).toString(16).padStart(4, '0')}-1111-4222-8333-${String(i).padStart(12, '0')}`;
  if (i % 7) e.kind = ['click', null, 'view'][i % 3];
  e.tags = Array.from({ length: i % 5 }, (_, k) => `g${k}`);
  if (i % 2 === 0) e.grid = Array.from({ length: i % 3 }, (_, k) => [null, -k]);
  if (i % 4 === 0) e.geo = { lat: i / 4, lon: -i / 32 };
  else if (i % 4 === 1) e.geo = { lat: -1.5 };
  else if (i % 4 === 2) e.geo = null;
  e.big = i * 1000000007;
  e.note = [i, `t${i}`, false, true][i % 4];
  return e;
}

async function main() {
  const registry = new SchemaRegistry({ host: registryUrl },
    { [SchemaType.JSON]: { validateFormats: false } });
  const schema = JSON.parse(schemaText);
  const geo = Object.assign({ $id: GEO_ID }, schema.properties.geo);
  await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(geo) },
    { subject: 'refs/geo' });
  schema.properties.geo = { $ref: GEO_ID };
  const { id } = await registry.register({
    type: SchemaType.JSON,
    schema: JSON.stringify(schema),
    references: [{ name: GEO_ID, subject: 'refs/geo', version: 1 }],
  }, { subject: `${topic}-value` });
  const kafka = new Kafka({ brokers: bootstrap.split(','), logLevel: logLevel.ERROR });
  const producer = kafka.producer();
  await producer.connect();
  const sent = [];
  const messages = [];
  for (let i = 0; i < n; i++) {
    const e = event(i);
    messages.push({ value: await registry.encode(id, e) });
    sent.push(JSON.stringify(e));
  }
  for (let k = 0; k < messages.length; k += 100) {
    await producer.send({ topic, messages: messages.slice(k, k + 100) });
  }
  await producer.disconnect();
  fs.writeFileSync(sentFile, sent.join('\n') + '\n');
  console.log(`ok ${n}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
