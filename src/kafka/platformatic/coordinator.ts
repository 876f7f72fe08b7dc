import { Admin, FindCoordinatorKeyTypes, kGetApi, kGetConnection } from '@platformatic/kafka';
import type { Base, Connection } from '@platformatic/kafka';

import { TributaryError } from '../../core/index.ts';
import type { KafkaClientOptions } from '../client.ts';
import { brokerSaid } from './errors.ts';
import { baseOptions } from './options.ts';

/**
 * Whether `error` says the group coordinator moved or is not reachable where we knew it: the
 * broker answered NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE, its connection was lost, or it
 * is not in the cluster's metadata (its broker restarting). The coordinator is then found again.
 */
export function coordinatorMoved(error: unknown): boolean {
  if (brokerSaid(error, 'NOT_COORDINATOR') || brokerSaid(error, 'COORDINATOR_NOT_AVAILABLE'))
    return true;
  if (error instanceof TributaryError) return error.code === 'KAFKA_UNAVAILABLE';
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'PLT_KFK_NETWORK';
}

/** The group coordinators our own requests go to, each found again once it moved. */
export interface Coordinators {
  /** A connection to `groupId`'s coordinator and the client's function for API `name` there. */
  on<Api>(groupId: string, name: string): Promise<{ connection: Connection; api: Api }>;
  /** Forgets `groupId`'s coordinator if `error` says it moved (coordinatorMoved); returns that. */
  forgetIfMoved(groupId: string, error: unknown): boolean;
  close(): Promise<void>;
}

/**
 * Our own cache of group coordinators for the requests the adapter sends itself (OffsetCommit,
 * OffsetFetch, TxnOffsetCommit): the library caches a consumer's coordinator in a private field
 * and forgets it only when its own requests fail, so a request of ours refused with
 * NOT_COORDINATOR would go to the same broker again and again. FindCoordinator goes through an
 * Admin of its own, made at the first lookup; the requests go through `client`'s connections.
 */
export function coordinators(options: KafkaClientOptions, client: Base): Coordinators {
  const known = new Map<string, number>();
  let admin: Admin | undefined;
  const find = async (groupId: string): Promise<number> => {
    const cached = known.get(groupId);
    if (cached !== undefined) return cached;
    admin ??= new Admin(baseOptions(options));
    const [found] = await admin.findCoordinator({
      keyType: FindCoordinatorKeyTypes.GROUP,
      keys: [groupId],
    });
    if (found === undefined || found.nodeId < 0)
      throw new TributaryError('KAFKA_UNAVAILABLE', `no coordinator for group ${groupId} yet`);
    known.set(groupId, found.nodeId);
    return found.nodeId;
  };
  return {
    async on<Api>(groupId: string, name: string) {
      const nodeId = await find(groupId);
      const broker =
        (await client.metadata({ topics: [] })).brokers.get(nodeId) ??
        (await client.metadata({ topics: [], forceUpdate: true })).brokers.get(nodeId);
      if (broker === undefined) {
        known.delete(groupId);
        throw new TributaryError(
          'KAFKA_UNAVAILABLE',
          `group coordinator ${nodeId} is not in the cluster's metadata (restarting?)`,
        );
      }
      const connection = await new Promise<Connection>((resolve, reject) =>
        client[kGetConnection](broker, (e, c) => (e ? reject(e) : resolve(c as Connection))),
      );
      const api = await new Promise<Api>((resolve, reject) =>
        client[kGetApi](name, (e, a) => (e ? reject(e) : resolve(a as Api))),
      );
      return { connection, api };
    },
    forgetIfMoved(groupId, error) {
      const moved = coordinatorMoved(error);
      if (moved) known.delete(groupId);
      return moved;
    },
    close: async () => {
      await admin?.close();
    },
  };
}
