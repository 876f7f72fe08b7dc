// The Kafka client adapters under the contract suite (test/integration/kafka-contract-*.test.ts).
//
// Every adapter of src/kafka's contract (types.ts and topic-follower.ts) is listed here, and
// every one must pass the whole suite, unchanged, against the real broker of the local stack:
// a new adapter (another client library) is added to `adapters` below, and a failure is a fault
// of the adapter, not a reason to change a test. The suite sees a client only as a
// ContractClient, the runtime's interfaces, so a test cannot lean on one library's objects.
import { createKafkaClient } from '../../../src/kafka/index.ts';
import type { KafkaClient, KafkaClientOptions } from '../../../src/kafka/index.ts';

/**
 * What the suite may use of a client: KafkaClient without the raw kafkajs objects (`producer`,
 * `consumer`, `admin`), which are for tools and are not part of the contract.
 */
export type ContractClient = Omit<KafkaClient, 'producer' | 'consumer' | 'admin'>;

export interface ContractAdapter {
  /** Names the suite's describe blocks: `Kafka contract: <name>`. */
  name: string;
  create(options: KafkaClientOptions): ContractClient;
}

export const adapters: ContractAdapter[] = [{ name: 'kafkajs', create: createKafkaClient }];
