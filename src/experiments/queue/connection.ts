// Where the sweep queue lives: a Redis URL (redis://[user:password@]host[:port][/db]) turned into
// the connection options BullMQ hands to ioredis, with one clear error for a bad or unreachable one.
import { Redis, type RedisOptions } from 'ioredis';
import { EnvironmentError, UserError } from '../../util/errors.js';

/** The BullMQ queue every tinyforge sweep and worker uses; jobs carry their sweep's name. */
export const QUEUE_NAME = 'tinyforge-points';

export function redisOptions(url: string, option = '--queue'): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`${option}: expected a Redis URL such as redis://127.0.0.1:6379, found "${url}"`);
  }
  if (parsed.protocol !== 'redis:') {
    throw new UserError(`${option}: expected a redis:// URL, found protocol "${parsed.protocol}" in "${url}"`);
  }
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UserError(`${option}: the database in "${url}" must be a number, found "${db}"`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port,
    db: db === '' ? 0 : Number(db),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    // BullMQ's workers block on Redis; it requires this to be null.
    maxRetriesPerRequest: null,
  };
}

/** Fails fast (before anything is enqueued or started) when the server does not answer. */
export async function checkReachable(url: string, options: RedisOptions, timeoutMs = 5000): Promise<void> {
  const client = new Redis({ ...options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {}); // reported below, once
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new EnvironmentError(`${url}: cannot reach the Redis server: ${(err as Error).message}`);
  } finally {
    client.disconnect();
  }
}
