// The user data that carries a member's standby tasks through SyncGroup (decision 0026): what
// the leader's request encodes per member is what that member reads from the response, and an
// assignment without it (an older member's leader, the library's one-member shortcut) names none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { encodeConsumerProtocolAssignment } from '@platformatic/kafka';

import { assignedStandbys } from '../../src/kafka/platformatic/group-member.ts';

const partitions = [{ topic: 'readings', partitions: [0, 2] }];

describe('standby tasks in an assignment', () => {
  it("reads the standbys and warm-ups of the assignment's user data", () => {
    const standby = { standby: ['0_1', '0_3'], warmup: ['0_3'] };
    const encoded = encodeConsumerProtocolAssignment({
      version: 0,
      assignedPartitions: partitions,
      userData: Buffer.from(JSON.stringify(standby)),
    });
    assert.deepEqual(assignedStandbys(encoded), standby);
  });

  it('names none without user data, or with user data it cannot read', () => {
    for (const userData of [null, Buffer.from('{'), Buffer.from('{"standby":"0_1"}')])
      assert.deepEqual(
        assignedStandbys(
          encodeConsumerProtocolAssignment({
            version: 0,
            assignedPartitions: partitions,
            userData,
          }),
        ),
        { standby: [], warmup: [] },
      );
    assert.deepEqual(assignedStandbys(Buffer.alloc(0)), { standby: [], warmup: [] });
  });
});
