import { setTimeout as sleep } from 'node:timers/promises';
import { SeededRandom } from '../../models/random.js';
import { ProviderError } from './chat-provider.js';
import { InputError } from '../../errors.js';

export interface RetryOptions {
  /** Extra attempts after the first (default 2). */
  retries?: number;
  /** Each attempt is aborted after this many ms (default 30,000). */
  timeoutMs?: number;
  /** Delay before the first retry; doubles each time (default 250 ms). */
  baseDelayMs?: number;
  /** Cap on one delay (default 4,000 ms). */
  maxDelayMs?: number;
  /** Seed of the jitter, so runs are reproducible (default 0). */
  seed?: number;
}

export interface AttemptFailure {
  attempt: number;
  message: string;
  /** Whether it was worth trying again. */
  retryable: boolean;
}

export type RetryOutcome<T> =
  | { ok: true; value: T; attempts: number; failures: AttemptFailure[] }
  | { ok: false; attempts: number; failures: AttemptFailure[] };

/**
 * Exponential back-off with "equal jitter": half the doubled delay is fixed, half is random, so that clients that
 * failed together do not retry in lockstep, yet every delay is at least half the nominal one.
 */
export function backoffDelay(retry: number, baseDelayMs: number, maxDelayMs: number, random: SeededRandom): number {
  const nominal = Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
  return nominal / 2 + (random.next() * nominal) / 2;
}

/**
 * Runs `attempt` until it succeeds, up to `1 + retries` times, each under its own time-out. Never throws for the
 * attempt's errors: the outcome lists them. A `ProviderError` with `retryable: false` ends the loop at once; the
 * caller's `signal` ends it too (its abort is not retried).
 */
export class Retrier {
  private readonly random: SeededRandom;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;

  constructor(options: RetryOptions = {}) {
    this.retries = options.retries ?? 2;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 4_000;
    if (!Number.isInteger(this.retries) || this.retries < 0) throw new InputError(`retries: expected a non-negative integer, got ${this.retries}`);
    if (!(this.timeoutMs > 0)) throw new InputError(`timeoutMs: expected a positive number, got ${this.timeoutMs}`);
    if (!(this.baseDelayMs >= 0)) throw new InputError(`baseDelayMs: expected a non-negative number, got ${this.baseDelayMs}`);
    if (!(this.maxDelayMs >= this.baseDelayMs)) throw new InputError(`maxDelayMs: expected at least baseDelayMs (${this.baseDelayMs}), got ${this.maxDelayMs}`);
    this.random = new SeededRandom(options.seed ?? 0);
  }

  async run<T>(attempt: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<RetryOutcome<T>> {
    const failures: AttemptFailure[] = [];
    for (let n = 1; n <= this.retries + 1; n++) {
      if (signal?.aborted) break;
      // A referenced timer, unlike AbortSignal.timeout's, keeps the process alive while an attempt waits on it.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
      try {
        const value = await attempt(combined);
        clearTimeout(timer);
        return { ok: true, value, attempts: n, failures };
      } catch (error) {
        clearTimeout(timer);
        const timedOut = timeout.signal.aborted && !signal?.aborted;
        const message = timedOut ? `timed out after ${this.timeoutMs} ms` : (error as Error).message;
        const retryable = !signal?.aborted && !(error instanceof ProviderError && !error.retryable);
        failures.push({ attempt: n, message, retryable });
        if (!retryable || n > this.retries) return { ok: false, attempts: n, failures };
        await sleep(backoffDelay(n - 1, this.baseDelayMs, this.maxDelayMs, this.random), undefined, { signal }).catch(() => undefined);
      }
    }
    return { ok: false, attempts: failures.length, failures };
  }
}
