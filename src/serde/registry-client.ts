import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import type { Type } from 'avsc';

import { TributaryError } from '../core/index.ts';

/** Where the schema registry is: the shape of the app's `Settings.registry`. */
export interface SchemaRegistrySettings {
  /** The Confluent-compatible API, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. */
  url: string;
  /** HTTP basic authentication. */
  auth?: { username: string; password: string };
}

/** A subject's compatibility level, as the registry's `/config/<subject>` names it. */
export type Compatibility =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

/** What the registry holds under a schema id. */
export type WriterSchema =
  | { kind: 'avro'; type: Type }
  /** The registry answered 404: no schema has this id. */
  | { kind: 'unknown' }
  /** A JSON or Protobuf schema, or one that cannot be parsed. */
  | { kind: 'unreadable'; reason: string };

/**
 * The registry calls the Avro serde makes. Errors are TributaryErrors: SCHEMA_INCOMPATIBLE,
 * REGISTRY_UNAVAILABLE (retriable) or REGISTRY_REJECTED. Made once per application and shared by
 * its serdes, so each schema id is fetched once.
 */
export interface SchemaRegistryClient {
  /** The registry's URL, without credentials: for messages. */
  readonly url: string;
  /**
   * Registers a schema (Avro JSON text) under a subject and returns its id; a schema already
   * registered there gets its existing id. With a compatibility level, the subject is set to it
   * first, so the registry checks the schema against that level.
   */
  register(subject: string, schema: string, compatibility?: Compatibility): Promise<number>;
  writerSchema(id: number): Promise<WriterSchema>;
}

export interface SchemaRegistryClientOptions {
  /** Each HTTP request's limit; a registry that does not answer in time is unavailable. */
  requestTimeoutMs?: number;
}

type Middleware = NonNullable<
  ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']
>[number];
type RegisterOptions = Parameters<SchemaRegistry['register']>[1];

const clientId = 'tributary';

/** A URL fit for messages and logs: user info (credentials) removed. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * The status and message of an error thrown by @kafkajs/confluent-schema-registry's HTTP
 * client (mappersmith). Mappersmith reports a refused connection or a timeout as a response
 * with status 400 and the Node error as its body ("Error, status 400: connect ECONNREFUSED
 * ..."), while a registry's own 400 carries a JSON message; such a response is status 0 here.
 */
function responseOf(error: unknown): { status: number; message: string } | undefined {
  if (!(error instanceof Error) || error.name !== 'ResponseError') return undefined;
  const status = (error as Error & { status?: unknown }).status;
  if (typeof status !== 'number') return undefined;
  const prefix = `${clientId} - `;
  const message = error.message.startsWith(prefix)
    ? error.message.slice(prefix.length)
    : error.message;
  const noResponse = /^Error, status 400: /.exec(message);
  if (status === 400 && noResponse !== null)
    return { status: 0, message: message.slice(noResponse[0].length) };
  return { status, message };
}

/** The code of a failed fetch (ECONNREFUSED, ENOTFOUND, a timeout), else its message. */
function fetchFailure(cause: unknown): string {
  if (cause instanceof Error && cause.name === 'TimeoutError') return 'no answer in time';
  const inner = (cause as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof inner?.code === 'string') return inner.code;
  if (typeof inner?.message === 'string') return inner.message;
  return cause instanceof Error ? cause.message : String(cause);
}

class RegistryClient implements SchemaRegistryClient {
  readonly url: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly client: SchemaRegistry;

  constructor(
    private readonly settings: SchemaRegistrySettings,
    private readonly timeoutMs: number,
  ) {
    this.base = settings.url.replace(/\/+$/, '');
    this.url = displayUrl(this.base);
    const { auth } = settings;
    this.headers = {
      accept: 'application/vnd.schemaregistry.v1+json, application/json',
      'content-type': 'application/vnd.schemaregistry.v1+json',
      ...(auth === undefined
        ? {}
        : {
            authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
          }),
    };
    const timeout: Middleware = () => ({
      prepareRequest: async (next) => (await next()).enhance({ timeout: timeoutMs }),
    });
    this.client = new SchemaRegistry({
      host: this.base,
      clientId,
      // Retries are the serde's (registry-retry.ts), with backoff, in one place.
      retry: { retries: 0 },
      middlewares: [timeout],
      ...(auth === undefined ? {} : { auth: { username: auth.username, password: auth.password } }),
    });
  }

  async register(subject: string, schema: string, compatibility?: Compatibility): Promise<number> {
    const doing = `registering a schema under subject ${subject}`;
    for (let attempt = 1; ; attempt++) {
      // The client library compares the subject's level with the one it is given and refuses
      // to register when they differ (its default is BACKWARD), and on a subject's first
      // registration it sets that level. So it is given the level the subject has: the one
      // just set, or the one the registry reports. For a subject the registry has no level
      // for (404) it is given an explicit undefined, which replaces its default: it then
      // neither compares nor sets a level, and the registry's default applies untouched.
      const level =
        compatibility === undefined
          ? await this.subjectLevel(subject)
          : await this.setSubjectLevel(subject, compatibility);
      try {
        const options = { subject, compatibility: level } as RegisterOptions;
        const { id } = await this.client.register({ type: SchemaType.AVRO, schema }, options);
        return id;
      } catch (error) {
        // Another worker set the subject's level in between: read it again.
        const levelChanged =
          error instanceof Error && error.name === 'ConfluentSchemaRegistryCompatibilityError';
        if (levelChanged && attempt < 3) continue;
        const response = responseOf(error);
        if (response?.status === 409) {
          throw new TributaryError(
            'SCHEMA_INCOMPATIBLE',
            `schema registry at ${this.url} refused the schema for subject ${subject} as incompatible with its earlier versions (compatibility ${level ?? 'of the registry default'}): ${response.message}`,
            { cause: error },
          );
        }
        throw this.failure(error, doing);
      }
    }
  }

  async writerSchema(id: number): Promise<WriterSchema> {
    let schema: unknown;
    try {
      schema = await this.client.getSchema(id);
    } catch (error) {
      const response = responseOf(error);
      if (response?.status === 404) return { kind: 'unknown' };
      if (response !== undefined) throw this.failure(error, `fetching schema id ${id}`);
      return {
        kind: 'unreadable',
        reason: `schema id ${id} cannot be parsed: ${(error as Error).message}`,
      };
    }
    const type = this.client.cache.getSchema(id)?.type;
    if (type !== SchemaType.AVRO || !avsc.Type.isType(schema))
      return { kind: 'unreadable', reason: `schema id ${id} is a ${type} schema, not Avro` };
    return { kind: 'avro', type: schema as Type };
  }

  /** The subject's compatibility level, or undefined when the registry has none for it (404). */
  private async subjectLevel(subject: string): Promise<Compatibility | undefined> {
    const doing = `reading the compatibility of subject ${subject}`;
    const { status, body } = await this.http(
      'GET',
      `/config/${encodeURIComponent(subject)}`,
      doing,
    );
    if (status === 404) return undefined;
    const level = (body as { compatibilityLevel?: unknown } | null)?.compatibilityLevel;
    if (status !== 200 || typeof level !== 'string') throw this.httpFailure(status, body, doing);
    return level.toUpperCase() as Compatibility;
  }

  private async setSubjectLevel(subject: string, level: Compatibility): Promise<Compatibility> {
    const doing = `setting the compatibility of subject ${subject} to ${level}`;
    const path = `/config/${encodeURIComponent(subject)}`;
    for (let attempt = 1; ; attempt++) {
      const { status, body } = await this.http('PUT', path, doing, { compatibility: level });
      if (status === 200) return level;
      // Apicurio answers 409 ("a rule named 'COMPATIBILITY' already exists") when another
      // worker created the subject's rule at the same moment: done if it holds our level,
      // else set it again (now an update of the existing rule).
      if (status !== 409 || attempt >= 3) throw this.httpFailure(status, body, doing);
      if ((await this.subjectLevel(subject)) === level) return level;
    }
  }

  /** The calls the client library has no method for. */
  private async http(
    method: 'GET' | 'PUT',
    path: string,
    doing: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    try {
      const response = await fetch(`${this.base}${path}`, {
        method,
        headers: this.headers,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      try {
        return { status: response.status, body: JSON.parse(text) };
      } catch {
        return { status: response.status, body: text };
      }
    } catch (cause) {
      throw this.failure(cause, doing, 0, fetchFailure(cause));
    }
  }

  private httpFailure(status: number, body: unknown, doing: string): TributaryError {
    const message = (body as { message?: unknown } | null)?.message;
    const reason = typeof message === 'string' ? message : String(body).slice(0, 200);
    return this.failure(undefined, doing, status, reason);
  }

  /** One message per kind of failure; never the password. */
  private failure(
    cause: unknown,
    doing: string,
    status = responseOf(cause)?.status,
    reason = responseOf(cause)?.message ?? (cause as Error | undefined)?.message ?? 'no reason',
  ): TributaryError {
    const options = cause === undefined ? {} : { cause };
    if (status === 0)
      return new TributaryError(
        'REGISTRY_UNAVAILABLE',
        `schema registry at ${this.url} cannot be reached (${reason}) while ${doing}`,
        options,
      );
    if (status !== undefined && (status >= 500 || status === 408 || status === 429))
      return new TributaryError(
        'REGISTRY_UNAVAILABLE',
        `schema registry at ${this.url} answered HTTP ${status} while ${doing}: ${reason}`,
        options,
      );
    if (status === 401 || status === 403) {
      const user = this.settings.auth?.username;
      return new TributaryError(
        'REGISTRY_REJECTED',
        `schema registry at ${this.url} refused ${user === undefined ? 'access without credentials' : `the credentials of user ${user}`} (HTTP ${status}) while ${doing}`,
        options,
      );
    }
    return new TributaryError(
      'REGISTRY_REJECTED',
      `schema registry at ${this.url} refused ${doing}${status === undefined ? '' : ` (HTTP ${status})`}: ${reason}`,
      options,
    );
  }
}

/**
 * A client for a Confluent-compatible schema registry (Confluent, Apicurio's ccompat API,
 * Redpanda), built on @kafkajs/confluent-schema-registry. Make one per application and pass it
 * to each `avro()` serde, so they share its cache of schemas.
 *
 * @example
 *   const registry = schemaRegistry(settings.registry);
 *   const observations = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
 */
export function schemaRegistry(
  settings: SchemaRegistrySettings,
  options: SchemaRegistryClientOptions = {},
): SchemaRegistryClient {
  return new RegistryClient(settings, options.requestTimeoutMs ?? 10_000);
}

/** The client itself, or one made from settings. */
export function registryClient(
  registry: SchemaRegistrySettings | SchemaRegistryClient,
): SchemaRegistryClient {
  return 'register' in registry ? registry : schemaRegistry(registry);
}
