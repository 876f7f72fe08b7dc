import { setTimeout as sleep } from 'node:timers/promises';

import type { TopicAdmin } from '../../src/kafka/index.ts';
import { exitedProcess } from './processes.ts';
import type { TributaryProcess } from './processes.ts';

export interface WaitOptions {
  /** What changes while the pipeline works (row counts): shown, and watched for quiet. */
  progress: () => Promise<string>;
  /** True when everything expected is there. */
  complete: (progress: string) => Promise<boolean>;
  /** True once the workers have committed all their input. */
  consumed: () => Promise<boolean>;
  /**
   * After the input is consumed, how long nothing may change before waiting more is pointless:
   * the idle timeout that closes the last windows, plus a commit and a margin.
   */
  settleMs: number;
  /** The bound on the whole wait. */
  timeoutMs: number;
  /** Any of them exiting ends the wait with an error. */
  processes: TributaryProcess[];
}

export interface WaitOutcome {
  /** complete: all there; settled: input consumed and quiet for settleMs; timeout. */
  how: 'complete' | 'settled' | 'timeout';
  seconds: number;
  progress: string;
}

/** Polls once a second until the output is complete, has settled short of it, or time is up. */
export async function waitForOutput(options: WaitOptions): Promise<WaitOutcome> {
  const began = Date.now();
  let last = '';
  let changedAt = began;
  let consumedAt: number | undefined;
  for (;;) {
    const now = await options.progress();
    if (now !== last) {
      last = now;
      changedAt = Date.now();
    }
    const stopped = exitedProcess(options.processes);
    if (stopped !== undefined)
      throw new Error(
        `${stopped.name} exited ${stopped.child.exitCode ?? stopped.child.signalCode} while the demo waited (so far: ${now})`,
      );
    const consumed = await options.consumed();
    if (!consumed) consumedAt = undefined;
    else consumedAt ??= Date.now();
    const seconds = (Date.now() - began) / 1000;
    if (consumed && (await options.complete(now)))
      return { how: 'complete', seconds, progress: now };
    if (
      consumedAt !== undefined &&
      Date.now() - Math.max(changedAt, consumedAt) >= options.settleMs
    )
      return { how: 'settled', seconds, progress: now };
    if (Date.now() - began >= options.timeoutMs) return { how: 'timeout', seconds, progress: now };
    await sleep(1000);
  }
}

/** Whether a consumer group has committed every partition of a topic up to its end. */
export async function groupConsumed(
  admin: Pick<TopicAdmin, 'committedOffsets' | 'endOffsets'>,
  groupId: string,
  topic: string,
): Promise<boolean> {
  const [committed, ends] = await Promise.all([
    admin.committedOffsets(groupId, topic),
    admin.endOffsets(topic),
  ]);
  for (const [partition, end] of ends)
    if (end > 0n && (committed.get(partition) ?? -1n) < end) return false;
  return true;
}
