import { findErrorBy } from '@platformatic/kafka';

/** Whether the broker answered `apiId` (a protocol error name such as TOPIC_ALREADY_EXISTS) anywhere in `error`. */
export function brokerSaid(error: unknown, apiId: string): boolean {
  return findErrorBy(error as Error, 'apiId', apiId) !== null;
}
