import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { LocalFanout, type Bus, type BusErrorReporter } from './bus.js';

/** PostgreSQL NOTIFY channel that carries every bus message. */
export const POSTGRES_BUS_CHANNEL = 'tollgate_bus';
/** NOTIFY payloads are limited to 8000 bytes by PostgreSQL; keep signals small (ids, not documents). */
export const MAX_POSTGRES_BUS_PAYLOAD_BYTES = 7_900;
/** Delay before re-LISTENing after the listener connection drops. */
export const DEFAULT_BUS_RECONNECT_MS = 1_000;

interface Envelope {
  o: string;
  c: string;
  p: unknown;
}

/** Options of {@link createPostgresBus}. */
export interface PostgresBusOptions {
  readonly pool: pg.Pool;
  readonly connectionString: string;
  readonly reportError?: BusErrorReporter;
  readonly reconnectMs?: number;
}

/**
 * Bus over PostgreSQL LISTEN/NOTIFY so several replicas agree. Local subscribers are served at once; the
 * notification echoed back to this replica is ignored (by origin id), other replicas deliver it on arrival.
 * One dedicated connection LISTENs; publishing uses the pool.
 *
 * @example
 * const bus = await createPostgresBus({ pool, connectionString });
 */
export async function createPostgresBus(options: PostgresBusOptions): Promise<Bus> {
  const reportError = options.reportError ?? (() => undefined);
  const origin = randomUUID();
  const fanout = new LocalFanout(reportError);
  let closed = false;
  let listener: pg.Client | undefined;

  const onNotification = (message: pg.Notification) => {
    if (message.channel !== POSTGRES_BUS_CHANNEL || !message.payload) return;
    try {
      const envelope = JSON.parse(message.payload) as Envelope;
      if (envelope.o !== origin) fanout.deliver(envelope.c, envelope.p);
    } catch (error) {
      reportError(error, POSTGRES_BUS_CHANNEL);
    }
  };

  const connect = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: options.connectionString });
    client.on('notification', onNotification);
    client.on('error', (error) => {
      reportError(error, POSTGRES_BUS_CHANNEL);
      client.end().catch(() => undefined);
      if (!closed) setTimeout(() => void connect().catch((e) => reportError(e, POSTGRES_BUS_CHANNEL)), options.reconnectMs ?? DEFAULT_BUS_RECONNECT_MS).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${POSTGRES_BUS_CHANNEL}`);
    listener = client;
  };
  await connect();

  return {
    async publish(channel, payload) {
      if (closed) return;
      const text = JSON.stringify({ o: origin, c: channel, p: payload ?? null } satisfies Envelope);
      if (Buffer.byteLength(text) > MAX_POSTGRES_BUS_PAYLOAD_BYTES) {
        throw new Error(`Bus payload on "${channel}" exceeds ${MAX_POSTGRES_BUS_PAYLOAD_BYTES} bytes`);
      }
      fanout.deliver(channel, JSON.parse(text).p as unknown);
      await options.pool.query('SELECT pg_notify($1, $2)', [POSTGRES_BUS_CHANNEL, text]);
    },
    subscribe: (channel, fn) => fanout.subscribe(channel, fn),
    async close() {
      if (closed) return;
      closed = true;
      fanout.clear();
      await listener?.end().catch(() => undefined);
    },
  };
}
