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
