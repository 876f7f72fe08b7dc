// The Kafka client adapters under the contract suite (test/integration/kafka-contract-*.test.ts).
//
// Every adapter of src/kafka's contract (types.ts and topic-follower.ts) is listed here, and
// every one must pass the whole suite, unchanged, against the real broker of the local stack:
// a new adapter (another client library) is added to `allAdapters` below, and a failure is a
// fault of the adapter, not a reason to change a test. The suite sees a client only as a
// ContractClient, the runtime's interfaces, so a test cannot lean on one library's objects.
//
// KAFKA_CONTRACT_ADAPTERS=kafkajs,platformatic runs the suite for the adapters named (default:
// all of them).
import { createKafkaClient } from '../../../src/kafka/index.ts';
import type { ContractClient, KafkaClientOptions } from '../../../src/kafka/index.ts';
import { createPlatformaticClient } from '../../../src/kafka/platformatic/index.ts';

export type { ContractClient } from '../../../src/kafka/index.ts';

export interface ContractAdapter {
  /** Names the suite's describe blocks: `Kafka contract: <name>`. */
  name: string;
  create(options: KafkaClientOptions): ContractClient;
}

const allAdapters: ContractAdapter[] = [
  { name: 'kafkajs', create: createKafkaClient },
  { name: 'platformatic', create: createPlatformaticClient },
];

/** The adapters KAFKA_CONTRACT_ADAPTERS names (all when unset); an unknown name is an error. */
function chosenAdapters(list: string | undefined): ContractAdapter[] {
  if (list === undefined || list.trim() === '') return allAdapters;
  const names = list.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !allAdapters.some((a) => a.name === n));
  if (unknown.length > 0)
    throw new Error(
      `KAFKA_CONTRACT_ADAPTERS names no adapter ${unknown.join(', ')} (known: ${allAdapters.map((a) => a.name).join(', ')})`,
    );
  return allAdapters.filter((a) => names.includes(a.name));
}

export const adapters: ContractAdapter[] = chosenAdapters(process.env['KAFKA_CONTRACT_ADAPTERS']);
