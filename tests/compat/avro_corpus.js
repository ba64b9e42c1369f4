#!/usr/bin/env node
// avro_corpus.js — avsc (an Avro implementation we did not write) as the
// reference for sluice's JSON <-> Avro codec. Driven by
// tests/integration/test_avro_json_avsc.c:
//
//   node avro_corpus.js generate DIR [N]   writes DIR/corpus.json
//   node avro_corpus.js verify DIR         reads DIR/corpus.json and DIR/ours.json
//
// generate: for every schema below, N values from avsc's type.random(), each
// with avsc's binary encoding (hex) and avsc's JSON rendering,
// type.toString(value). That rendering is Avro's JSON encoding as the spec
// defines it: a non-null union value is wrapped as {"<branch>": value} with
// the branch's fullname (avsc's branchName), bytes and fixed are strings of
// code points 0-255 ('binary'), enums are their symbols. So nothing is
// converted here. What JSON.stringify cannot say is avoided when generating
// instead: NaN and the infinities (rendered null), -0 (rendered 0), and
// integral doubles in [2^63, 1e21), which JavaScript prints as long integer
// literals that a 64-bit JSON parser (jansson) refuses. Floats are rendered
// as the double value of the float (0.10000000149011612 for 0.1f); the C
// side compares them as floats.
//
// verify: avsc decodes the bytes our encoder wrote (DIR/ours.json, one hex
// string per value, null where our encoder failed) and must get back the
// value it started from (compared as toString output). Exit status 0 only
// if every value matches; the last line says how many were checked.
//
// Determinism: avsc draws from one module-level generator seeded from
// Math.random() when avsc is loaded, so Math.random is replaced by a seeded
// generator while avsc loads and for our own draws. The corpus is also
// written to DIR, so a failure can be replayed from the files.
'use strict';

const fs = require('fs');
const path = require('path');

// ---- seeded randomness ---------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.AVRO_CORPUS_SEED || 20261122);
const rnd = mulberry32(SEED);
const realRandom = Math.random;
Math.random = rnd;
const avro = require('avsc');
Math.random = realRandom;

function randInt(n) {
  return Math.floor(rnd() * n);
}
function pick(arr) {
  return arr[randInt(arr.length)];
}

// ---- wider values than avsc's defaults ---------------------------------------------
// avsc's own random() draws ints below 1000, longs below 2^31, doubles in
// [0, 1) and ASCII letters. Half the draws below keep avsc's, the other half
// reach the edges the codec must get right.

const T = avro.types;
const origInt = T.IntType.prototype.random;
const origLong = T.LongType.prototype.random;
const origFloat = T.FloatType.prototype.random;
const origDouble = T.DoubleType.prototype.random;
const origString = T.StringType.prototype.random;

T.IntType.prototype.random = function () {
  switch (randInt(4)) {
    case 0: return origInt.call(this);
    case 1: return pick([0, -1, 1, 63, 64, -64, -65, 2147483647, -2147483648]);
    default: return (randInt(4294967296) - 2147483648) | 0;
  }
};

T.LongType.prototype.random = function () {
  switch (randInt(4)) {
    case 0: return origLong.call(this);
    // avsc refuses longs beyond +-(2^53 - 2), and between 2^52 and 2^53 its
    // zigzag step (2n or -2n - 1 in double arithmetic) loses the low bit:
    // it writes -9007199254740990 as fc ff ff ff ff ff ff 1f, which the spec
    // reads as +9007199254740990. So the corpus stays within +-2^52; the
    // 64-bit extremes are hand-written vectors in tests/unit/test_avro_json.c.
    case 1: return pick([0, -1, 2147483648, -2147483649, 4503599627370496, -4503599627370496]);
    default: {
      const mag = Math.floor(rnd() * Math.pow(2, randInt(53)));
      return rnd() < 0.5 ? -mag : mag;
    }
  }
};

// Doubles and floats from random bits (any exponent, any sign), skipping what
// JSON.stringify cannot carry exactly (see the file comment).
const scratch = new DataView(new ArrayBuffer(8));
function jsonSafe(x) {
  if (!Number.isFinite(x) || Object.is(x, -0)) return false;
  const a = Math.abs(x);
  return !(Number.isInteger(a) && a >= 9223372036854775808 && a < 1e21);
}
function randomDoubleBits() {
  for (;;) {
    scratch.setUint32(0, randInt(4294967296));
    scratch.setUint32(4, randInt(4294967296));
    const x = scratch.getFloat64(0);
    if (jsonSafe(x)) return x;
  }
}
function randomFloatBits() {
  for (;;) {
    scratch.setUint32(0, randInt(4294967296));
    const x = scratch.getFloat32(0);
    if (jsonSafe(x)) return x;
  }
}

T.FloatType.prototype.random = function () {
  switch (randInt(3)) {
    case 0: return origFloat.call(this);
    case 1: return Math.fround(pick([0, 1, -1, 0.5, 0.1, 3.4028234663852886e38, 1.401298464324817e-45,
                                     1.1754943508222875e-38, 16777216, -123.25]));
    default: return randomFloatBits();
  }
};

T.DoubleType.prototype.random = function () {
  switch (randInt(3)) {
    case 0: return origDouble.call(this);
    case 1: return pick([0, 1, -1, 0.1, 1 / 3, 5e-324, 2.2250738585072014e-308,
                         1.7976931348623157e308, 9007199254740993, 1e21, 1e-7, 123456.789]);
    default: return randomDoubleBits();
  }
};

// Strings with what JSON and UTF-8 make interesting: escapes, NUL, controls,
// two- three- and four-byte sequences (a surrogate pair in JavaScript).
const SPICE = ['é', 'ß', '☃', '€', '😀', '𝄞', '\u0000', '\n', '\t', '"', '\\', '/', '\u007f',
               '\u2028', '\u001f', 'a', 'Z', ' '];
T.StringType.prototype.random = function () {
  if (rnd() < 0.5) return origString.call(this);
  let s = '';
  for (let i = randInt(24); i > 0; i--) s += pick(SPICE);
  return s;
};

// Arrays and maps hold 0-9 items in avsc; a recursive type through an array
// (a tree) would then grow without end. Past a few levels they are empty.
const origArray = T.ArrayType.prototype.random;
const origMap = T.MapType.prototype.random;
let nesting = 0;
function bounded(orig) {
  return function () {
    if (nesting >= 4) return orig === origMap ? {} : [];
    nesting++;
    try {
      return orig.call(this);
    } finally {
      nesting--;
    }
  };
}
T.ArrayType.prototype.random = bounded(origArray);
T.MapType.prototype.random = bounded(origMap);

// ---- logical types ------------------------------------------------------------------
// avsc has no built-in logical types and would treat these as their
// underlying types; registering them only changes how values are drawn.

class UuidType extends T.LogicalType {
  _fromValue(v) { return v; }
  _toValue(v) { return v; }
  random() {
    const hex = '0123456789abcdef';
    let s = '';
    for (let i = 0; i < 36; i++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) s += '-';
      else s += (i === 14 ? '4' : hex[randInt(16)]);
    }
    return rnd() < 0.2 ? s.toUpperCase() : s;
  }
}

// The unscaled value as big-endian two's complement: the fewest bytes for
// `bytes`, sign-extended to the size for `fixed`.
function twosComplement(n, size) {
  const out = [];
  let x = n;
  for (;;) {
    out.unshift(Number(BigInt.asUintN(8, x)));
    x >>= 8n; // arithmetic: -1 stays -1
    const top = out[0] & 0x80;
    if ((x === 0n && !top) || (x === -1n && top)) break;
  }
  if (size !== undefined) {
    while (out.length < size) out.unshift(n < 0n ? 0xff : 0);
  }
  return Buffer.from(out);
}

// sluice reads a string that looks like a decimal number ("12", "-3.5e2")
// as that number, and any other string as Avro's raw bytes; raw bytes that
// happen to look like a number are the one case its JSON input cannot tell
// apart (documented in src/codec/avro_json_encode.c and tested in
// tests/unit/test_avro_json.c). They are redrawn here so the corpus checks
// everything else byte for byte.
const LOOKS_DECIMAL = /^[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

class DecimalType extends T.LogicalType {
  constructor(schema, opts) {
    super(schema, opts);
    this.precision = schema.precision;
    this.size = schema.type === 'fixed' ? schema.size : undefined;
  }
  _fromValue(v) { return v; }
  _toValue(v) { return v; }
  random() {
    for (;;) {
      const digits = 1 + randInt(this.precision);
      let s = '';
      for (let i = 0; i < digits; i++) s += String(randInt(10));
      let n = BigInt(s);
      if (rnd() < 0.5) n = -n;
      const buf = twosComplement(n, this.size);
      if (!LOOKS_DECIMAL.test(buf.toString('binary'))) return buf;
    }
  }
}

const LOGICAL = {uuid: UuidType, decimal: DecimalType};

// ---- the schemas ------------------------------------------------------------------

const event = {
  type: 'record', name: 'Event', namespace: 'com.acme.events',
  fields: [
    {name: 'id', type: {type: 'string', logicalType: 'uuid'}},
    {name: 'ts', type: {type: 'long', logicalType: 'timestamp-millis'}},
    {name: 'user_id', type: ['null', 'string'], default: null},
    {name: 'session', type: ['null', 'string'], default: null},
    {name: 'count', type: 'long'},
    {name: 'score', type: 'double'},
    {name: 'kind', type: {type: 'enum', name: 'Kind', symbols: ['VIEW', 'CLICK', 'BUY']}},
    {name: 'items', type: {type: 'array', items: {
      type: 'record', name: 'Item', fields: [
        {name: 'sku', type: 'string'},
        {name: 'qty', type: 'int'},
        {name: 'tags', type: {type: 'array', items: 'string'}},
      ]}}},
    {name: 'attrs', type: {type: 'map', values: 'string'}},
    {name: 'referrer', type: ['null', 'string'], default: null},
  ],
};

const SCHEMAS = [
  ['null', 'null'],
  ['boolean', 'boolean'],
  ['int', 'int'],
  ['long', 'long'],
  ['float', 'float'],
  ['double', 'double'],
  ['bytes', 'bytes'],
  ['string', 'string'],
  ['primitives', {type: 'record', name: 'Prims', fields: [
    {name: 'n', type: 'null'}, {name: 'b', type: 'boolean'}, {name: 'i', type: 'int'},
    {name: 'l', type: 'long'}, {name: 'f', type: 'float'}, {name: 'd', type: 'double'},
    {name: 'by', type: 'bytes'}, {name: 's', type: 'string'}]}],
  ['nested_records', {type: 'record', name: 'Outer', namespace: 'ns.one', fields: [
    {name: 'a', type: {type: 'record', name: 'Mid', fields: [
      {name: 'b', type: {type: 'record', name: 'Inner', namespace: 'ns.two', fields: [
        {name: 'c', type: 'string'}, {name: 'd', type: 'int'}]}},
      {name: 'again', type: 'ns.two.Inner'}]}},
    {name: 'e', type: 'Mid'}]}],
  ['array_of_records', {type: 'array', items: {type: 'record', name: 'Line', fields: [
    {name: 'sku', type: 'string'},
    {name: 'tags', type: {type: 'array', items: 'string'}},
    {name: 'price', type: 'double'}]}}],
  ['map_of_strings', {type: 'map', values: 'string'}],
  ['map_of_arrays', {type: 'map', values: {type: 'array', items: 'long'}}],
  ['map_of_records', {type: 'map', values: {type: 'record', name: 'V', fields: [
    {name: 'x', type: 'float'}, {name: 'y', type: ['null', 'bytes']}]}}],
  ['nullable_string', ['null', 'string']],
  ['nullable_record', ['null', {type: 'record', name: 'Opt', namespace: 'x.y', fields: [
    {name: 'v', type: 'long'}, {name: 'w', type: ['null', 'double']}]}]],
  ['union_ambiguous', ['null', 'int', 'long', 'float', 'double', 'string', 'bytes']],
  ['union_complex', ['null', {type: 'array', items: 'int'}, {type: 'map', values: 'boolean'},
                     {type: 'fixed', name: 'Hash', size: 4},
                     {type: 'enum', name: 'Color', symbols: ['RED', 'GREEN']}]],
  ['union_named', ['null', {type: 'record', name: 'X', namespace: 'a', fields: [
    {name: 'v', type: 'int'}]}, {type: 'record', name: 'X', namespace: 'b', fields: [
    {name: 'v', type: 'string'}]}]],
  ['enum', {type: 'enum', name: 'Suit', symbols: ['SPADES', 'HEARTS', 'DIAMONDS', 'CLUBS']}],
  ['fixed', {type: 'fixed', name: 'Md5', namespace: 'crypto', size: 16}],
  ['fixed_empty', {type: 'fixed', name: 'Nothing', size: 0}],
  ['linked_list', {type: 'record', name: 'Node', fields: [
    {name: 'value', type: 'long'}, {name: 'next', type: ['null', 'Node']}]}],
  ['tree', {type: 'record', name: 'Tree', fields: [
    {name: 'label', type: 'string'},
    {name: 'kids', type: {type: 'array', items: 'Tree'}}]}],
  ['logical', {type: 'record', name: 'Logical', fields: [
    {name: 'date', type: {type: 'int', logicalType: 'date'}},
    {name: 'tmillis', type: {type: 'int', logicalType: 'time-millis'}},
    {name: 'tmicros', type: {type: 'long', logicalType: 'time-micros'}},
    {name: 'tsmillis', type: {type: 'long', logicalType: 'timestamp-millis'}},
    {name: 'tsmicros', type: {type: 'long', logicalType: 'timestamp-micros'}},
    {name: 'uuid', type: {type: 'string', logicalType: 'uuid'}},
    {name: 'dec_bytes', type: {type: 'bytes', logicalType: 'decimal', precision: 20, scale: 4}},
    {name: 'dec_fixed', type: {type: 'fixed', name: 'Amount', size: 8, logicalType: 'decimal',
                               precision: 18, scale: 2}}]}],
  ['logical_nullable', {type: 'record', name: 'LogicalN', fields: [
    {name: 'date', type: ['null', {type: 'int', logicalType: 'date'}]},
    {name: 'ts', type: ['null', {type: 'long', logicalType: 'timestamp-micros'}]},
    {name: 'uuid', type: ['null', {type: 'string', logicalType: 'uuid'}]},
    {name: 'dec', type: ['null', {type: 'bytes', logicalType: 'decimal', precision: 38,
                                  scale: 9}]}]}],
  ['decimal_bytes', {type: 'bytes', logicalType: 'decimal', precision: 30, scale: 3}],
  ['decimal_fixed', {type: 'fixed', name: 'Dec16', size: 16, logicalType: 'decimal',
                     precision: 38, scale: 10}],
  ['event', event],
];

// ---- commands ------------------------------------------------------------------------

function typeOf(schema) {
  return avro.Type.forSchema(schema, {logicalTypes: LOGICAL});
}

function generate(dir, n) {
  const out = {seed: SEED, per_schema: n, schemas: []};
  Math.random = rnd; // anything avsc draws lazily stays seeded too
  for (const [name, schema] of SCHEMAS) {
    const type = typeOf(schema);
    const values = [];
    for (let i = 0; i < n; i++) {
      // Read back from avsc's own bytes: avsc's float draws are doubles, and
      // the value the corpus talks about is the one the bytes hold.
      const bytes = type.toBuffer(type.random());
      const v = type.fromBuffer(bytes);
      values.push({hex: bytes.toString('hex'), json: type.toString(v)});
    }
    out.schemas.push({name, schema, values});
  }
  Math.random = realRandom;
  fs.writeFileSync(path.join(dir, 'corpus.json'), JSON.stringify(out));
  console.log(`generated ${SCHEMAS.length} schemas x ${n} values (seed ${SEED})`);
}

function verify(dir) {
  const corpus = JSON.parse(fs.readFileSync(path.join(dir, 'corpus.json'), 'utf8'));
  const ours = JSON.parse(fs.readFileSync(path.join(dir, 'ours.json'), 'utf8'));
  let checked = 0, failed = 0;
  corpus.schemas.forEach((entry, si) => {
    const type = typeOf(entry.schema);
    const hexes = ours.schemas[si];
    entry.values.forEach((value, vi) => {
      checked++;
      const hex = hexes[vi];
      let why = null;
      if (typeof hex !== 'string') {
        why = 'our encoder produced nothing';
      } else {
        try {
          const back = type.toString(type.fromBuffer(Buffer.from(hex, 'hex')));
          if (back !== value.json) why = `avsc read back ${back}`;
        } catch (err) {
          why = `avsc cannot read it: ${err.message}`;
        }
      }
      if (why) {
        failed++;
        if (failed <= 10)
          console.error(`MISMATCH ${entry.name}[${vi}]: ${why}\n  ours: ${hex}\n  want: ${value.json}`);
      }
    });
  });
  console.log(`verified ${checked} values, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

const [cmd, dir, count] = process.argv.slice(2);
if (cmd === 'generate' && dir) generate(dir, Number(count || 300));
else if (cmd === 'verify' && dir) verify(dir);
else {
  console.error('usage: avro_corpus.js generate DIR [N] | verify DIR');
  process.exit(2);
}
