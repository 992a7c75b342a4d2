/** Most keys tracked at once; past it the table starts over (every key gets a full bucket again). */
const MAX_TRACKED_KEYS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** The answer of {@link KeyRateLimiter.take}: allowed, or refused with the seconds until a request would pass. */
export type RateVerdict = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/**
 * Requests per second per API key, as a token bucket per key id in this process (`TOLLGATE_KEY_RATE_LIMIT`,
 * `TOLLGATE_KEY_RATE_BURST`): a key may spend `burst` requests at once and `rate` per second after that. Per
 * replica, like every in-process limit; a runaway agent loop is stopped at the door, before its requests cost a
 * decision write each.
 *
 * @example
 * const limiter = new KeyRateLimiter(50, 100);
 * if (!limiter.take('key_1').ok) answer429();
 */
export class KeyRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #burst: number;

  constructor(readonly rate: number, burst: number, private readonly now: () => number = () => performance.now()) {
    if (!(rate > 0)) throw new RangeError('rate must be positive');
    this.#burst = burst > 0 ? burst : rate;
  }

  /** Spends one request of `keyId`'s bucket. */
  take(keyId: string): RateVerdict {
    const now = this.now();
    let bucket = this.#buckets.get(keyId);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_TRACKED_KEYS) this.#buckets.clear();
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(keyId, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: (1 - bucket.tokens) / this.rate };
  }
}
