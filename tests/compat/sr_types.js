// sr_types.js — @kafkajs/confluent-schema-registry (a client no one here
// wrote) against `sluice registry` with PROTOBUF and JSON schemas and
// references: register (subjects with '/', which it sends encoded), look up
// by schema, fetch by id in a fresh client (which then resolves the
// references from the registry itself and parses what the registry serves:
// protobufjs for .proto text, ajv for JSON Schema), encode and decode.
//
// This client is no reference for Protobuf framing (it writes no
// message-index array), so only its registry flow and its own round trip
// are checked. Its look-up by schema (getRegistryIdBySchema) sends no
// references, so for a schema that has some the registry cannot parse it;
// that answer is recorded too. Everything observed goes to OUT as JSON for the C side
// (tests/integration/test_sr_kafkajs_types.c).
//
// usage: node sr_types.js REGISTRY_URL OUT
'use strict';
const fs = require('fs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const [url, out] = process.argv.slice(2);

const money = `syntax = "proto3";
package common;
message Money {
  int64 units = 1;
  string currency = 2;
}
`;
const order = `syntax = "proto3";
package shop;
import "common/money.proto";
message Order {
  int64 id = 1;
  common.Money total = 2;
  enum State { NEW = 0; PAID = 1; }
  State state = 3;
  repeated string tags = 4;
}
`;
const address = {
  $id: 'https://example.com/schemas/address.json',
  type: 'object',
  properties: { city: { type: 'string' }, zip: { type: 'string' } },
  required: ['city'],
};
const customer = {
  $id: 'https://example.com/schemas/customer.json',
  type: 'object',
  properties: {
    name: { type: 'string' },
    home: { $ref: 'https://example.com/schemas/address.json' },
  },
  required: ['name', 'home'],
};

(async () => {
  const registry = new SchemaRegistry({ host: url });
  const observed = {};

  // Protobuf with a reference; the referenced subject has a '/'.
  const moneyReg = await registry.register(
    { type: SchemaType.PROTOBUF, schema: money }, { subject: 'common/money.proto' });
  const moneyRef = { name: 'common/money.proto', subject: 'common/money.proto', version: 1 };
  const orderSchema = { type: SchemaType.PROTOBUF, schema: order, references: [moneyRef] };
  const orderReg = await registry.register(orderSchema, { subject: 'shop-orders-value' });
  observed.money_id = moneyReg.id;
  observed.order_id = orderReg.id;
  observed.money_lookup_id = await registry.getRegistryIdBySchema(
    'common/money.proto', { type: SchemaType.PROTOBUF, schema: money });
  try {
    await registry.getRegistryIdBySchema('shop-orders-value', orderSchema);
    observed.order_lookup = 'found';
  } catch (e) {
    observed.order_lookup = String(e.message);
  }
  observed.order_latest_id = await registry.getLatestSchemaId('shop-orders-value');
  observed.money_version_id = await registry.getRegistryId('common/money.proto', 1);

  // A fresh client knows nothing: it fetches the schema and its references.
  const fresh = new SchemaRegistry({ host: url });
  const value = { id: 7, total: { units: 1250, currency: 'EUR' }, state: 1, tags: ['a'] };
  const framed = await fresh.encode(orderReg.id, value);
  const decoded = await new SchemaRegistry({ host: url }).decode(framed);
  observed.order_roundtrip = decoded.id == 7 && decoded.total.units == 1250 &&
    decoded.total.currency === 'EUR' && decoded.state === 1 && decoded.tags.join() === 'a';

  // JSON Schema with a reference; ajv validates on encode.
  const addrReg = await registry.register(
    { type: SchemaType.JSON, schema: JSON.stringify(address) }, { subject: 'refs/address' });
  const custSchema = {
    type: SchemaType.JSON,
    schema: JSON.stringify(customer),
    references: [{ name: address.$id, subject: 'refs/address', version: 1 }],
  };
  const custReg = await registry.register(custSchema, { subject: 'customers-json-value' });
  observed.address_id = addrReg.id;
  observed.customer_id = custReg.id;
  observed.address_lookup_id = await registry.getRegistryIdBySchema(
    'refs/address', { type: SchemaType.JSON, schema: JSON.stringify(address) });
  const freshJson = new SchemaRegistry({ host: url });
  const cust = { name: 'ada', home: { city: 'Berlin', zip: '10115' } };
  const jframed = await freshJson.encode(custReg.id, cust);
  observed.customer_roundtrip =
    JSON.stringify(await new SchemaRegistry({ host: url }).decode(jframed)) === JSON.stringify(cust);
  try {
    await freshJson.encode(custReg.id, { name: 'ada', home: { zip: 1 } });
    observed.customer_invalid_refused = false;
  } catch (e) {
    observed.customer_invalid_refused = true;
  }
  observed.customer_frame_hex = jframed.toString('hex');

  // An incompatible change is a 409 for this client too.
  try {
    await registry.register({ type: SchemaType.PROTOBUF, schema: order.replace('int64 id', 'string id'),
      references: [moneyRef] }, { subject: 'shop-orders-value' });
    observed.breaking_refused = false;
  } catch (e) {
    observed.breaking_refused = /FIELD_SCALAR_KIND_CHANGED/.test(String(e.message));
    observed.breaking_message = String(e.message);
  }
  fs.writeFileSync(out, JSON.stringify(observed));
})().catch((e) => {
  console.error('sr_types.js failed:', e && e.stack ? e.stack : e);
  process.exit(1);
});
