import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { groupMembershipError } from '../../src/kafka/index.ts';

/** An error shaped as kafkajs's protocol errors are: a `type` naming the broker's error code. */
function protocolError(type: string): Error {
  return Object.assign(new Error(`broker said ${type}`), { type });
}

describe('groupMembershipError', () => {
  it('finds a lost membership under the non-retriable wrapper of commitOffsets', () => {
    const cause = protocolError('UNKNOWN_MEMBER_ID');
    const wrapped = new Error('The coordinator is not aware of this member', { cause });
    assert.equal(groupMembershipError(wrapped), cause);
    for (const type of [
      'ILLEGAL_GENERATION',
      'REBALANCE_IN_PROGRESS',
      'NOT_COORDINATOR_FOR_GROUP',
    ]) {
      const e = protocolError(type);
      assert.equal(
        groupMembershipError(new Error('outer', { cause: new Error('mid', { cause: e }) })),
        e,
      );
    }
  });

  it('leaves every other failure alone', () => {
    assert.equal(groupMembershipError(new Error('disk full')), undefined);
    assert.equal(groupMembershipError(protocolError('TOPIC_AUTHORIZATION_FAILED')), undefined);
    assert.equal(groupMembershipError('UNKNOWN_MEMBER_ID'), undefined);
    assert.equal(groupMembershipError(undefined), undefined);
  });
});
