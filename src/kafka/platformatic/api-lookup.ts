import { kGetApi } from '@platformatic/kafka';

/** One API of the library as its lookup hands it over: a function, with its key and version. */
export type LibraryApi = ((...args: unknown[]) => void) & { key: number; version: number };

type Lookup = (name: string, callback: (error: Error | null, api?: LibraryApi) => void) => void;

/**
 * Wraps a client's API lookup (`kGetApi`), which the library calls by name before each request
 * and which picks the highest version both it and the broker speak: each time it finds the API
 * `name`, `replace` is given it and returns the one the client uses instead. The adapter's way
 * into the library's requests (our Produce encoder, our Fetch decoder, the wait before a
 * JoinGroup) without a fork of it.
 */
export function overrideApi(
  client: object,
  name: string,
  replace: (api: LibraryApi) => LibraryApi,
): void {
  const target = client as Record<symbol, Lookup>;
  const lookup = (target[kGetApi] as Lookup).bind(client);
  target[kGetApi] = (asked, callback) =>
    lookup(asked, (error, api) => {
      if (error === null && asked === name && api !== undefined) callback(null, replace(api));
      else callback(error, api);
    });
}

/** A topic as a Metadata response lists it (the fields read here). */
interface ListedTopic {
  name: string | null;
  partitions: unknown[];
}

/**
 * Makes a Metadata response that leaves out a topic asked for, or lists it without partitions,
 * a retriable error with stale metadata (the library then reads it again, from another broker
 * if need be). A broker that has just restarted may answer so before it knows the cluster's
 * topics; the library indexes the topics it asked for without checking, so such an answer threw
 * a TypeError in its producer's send (`metadata.topics.get(topic).partitionsCount`) out of a
 * socket callback, and the worker exited 1 in a rolling restart of the brokers.
 */
export function guardMetadata(client: object): void {
  overrideApi(client, 'Metadata', (metadata) =>
    Object.assign((...args: unknown[]): void => {
      const asked = args[1];
      const callback = args[args.length - 1] as (
        error: unknown,
        response?: { topics: ListedTopic[] },
      ) => void;
      metadata(...args.slice(0, -1), (error: unknown, response?: { topics: ListedTopic[] }) => {
        if (error == null && Array.isArray(asked) && response !== undefined) {
          const listed = new Set(
            response.topics.filter((t) => t.partitions.length > 0).map((t) => t.name),
          );
          const names = (asked as (string | { name?: string | null })[]).map((topic) =>
            typeof topic === 'string' ? topic : (topic.name ?? null),
          );
          const missing = names.filter((topic) => topic !== null && !listed.has(topic));
          if (missing.length > 0) {
            callback(
              Object.assign(
                new Error(
                  `the broker's metadata lists no partitions of ${missing.join(', ')} (restarting?)`,
                ),
                { canRetry: true, hasStaleMetadata: true, retriable: true },
              ),
            );
            return;
          }
        }
        callback(error, response);
      });
    }, metadata),
  );
}
