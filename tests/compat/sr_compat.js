// sr_compat.js — clients no one here wrote, against `sluice registry`.
//
// @kafkajs/confluent-schema-registry registers a schema and frames a value
// (magic byte + id + Avro); avsc encodes the same value independently. Then
// both read what sluice's own client registered. Everything observed goes to
// OUT as JSON for the C side (tests/integration/test_sr_compat.c) to check.
//
// usage: node sr_compat.js REGISTRY_URL OUR_SUBJECT OUR_ID OUT
'use strict';
const fs = require('fs');
const avro = require('avsc');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const [url, ourSubject, ourIdText, out] = process.argv.slice(2);
const ourId = Number(ourIdText);

const theirSchema = {
  type: 'record',
  name: 'Click',
  namespace: 'compat.js',
  fields: [
    { name: 'user', type: 'string' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'ref', type: ['null', 'string'], default: null },
  ],
};
const theirValue = { user: 'ada', at: 1700000000123, tags: ['a', 'b'], ref: 'home' };

(async () => {
  const registry = new SchemaRegistry({ host: url });
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(theirSchema) },
    { subject: 'compat-theirs-value' });
  const framed = await registry.encode(id, theirValue);
  // avsc on its own (no registry) must produce the payload the registry client framed.
  const plain = avro.Type.forSchema(theirSchema).toBuffer(theirValue);
  const decodedBack = await registry.decode(framed);

  // What sluice's client registered, read by them.
  const ourSchema = await registry.getSchema(ourId);
  const latestId = await registry.getLatestSchemaId(ourSubject);
  const ourType = avro.Type.forSchema(JSON.parse(JSON.stringify(ourSchema)));
  const ourValue = ourType.random();
  const ourFramed = await registry.encode(ourId, ourValue);

  fs.writeFileSync(out, JSON.stringify({
    theirs: {
      id,
      schema: JSON.stringify(theirSchema),
      frame_hex: framed.toString('hex'),
      avsc_payload_hex: plain.toString('hex'),
      decoded_back: decodedBack.user === 'ada' && decodedBack.tags.join(',') === 'a,b',
    },
    ours: {
      latest_id: latestId,
      canonical: JSON.stringify(ourType.getSchema({ exportAttrs: false })),
      frame_hex: ourFramed.toString('hex'),
    },
  }));
})().catch((e) => {
  console.error('sr_compat.js failed:', e && e.stack ? e.stack : e);
  process.exit(1);
});
