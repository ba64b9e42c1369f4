// mock_kafka_kafkajs.js — kafkajs, a Kafka client written by no one here
// and sharing no code with librdkafka, against sluice-mock-kafka: it
// produces four messages with headers, then reads the topic back as a
// consumer group from the beginning and commits. Prints one line per
// message read, sorted: "PARTITION:OFFSET KEY=VALUE HEADER".
//
// usage: node mock_kafka_kafkajs.js BOOTSTRAP TOPIC GROUP EXPECTED_COUNT
//
// kafkajs' idempotent producer does not connect to librdkafka 2.0.2's mock
// ("KafkaJSBrokerNotFound: Broker 0 not found in the cached metadata" from
// its controller lookup; the mock's brokers are numbered from 1), so this
// one is a plain acks=-1 producer.
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, group, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);

async function main() {
  const kafka = new Kafka({ brokers: bootstrap.split(','), logLevel: logLevel.ERROR });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [
      { key: 'k1', value: 'v1', partition: 0, headers: { h: 'one' } },
      { key: 'k2', value: 'v2', partition: 0, headers: { h: 'two' } },
      { key: 'k3', value: 'v3', partition: 1, headers: { h: 'three' } },
      { key: 'k4', value: 'v4', partition: 1, headers: { h: 'four' } },
    ],
  });
  await producer.disconnect();

  // The mock waits session timeout - 1 s for a rebalance; keep it short.
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 4000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const lines = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${lines.length} messages`)), 60000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        const h = message.headers && message.headers.h ? message.headers.h.toString() : '-';
        lines.push(`${partition}:${message.offset} ${message.key}=${message.value} ${h}`);
        if (lines.length === expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.commitOffsets([]); // flush what eachMessage resolved
  await consumer.disconnect();
  process.stdout.write(lines.sort().join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
