import type { Encoded } from '../models/tokenizer.js';

/** What the batcher needs from a cross-encoder: raw logits for already-tokenized sequences, in input order. */
export interface SequenceScorer {
  scoreEncoded(
    sequences: readonly Encoded[],
    options: { activation: 'none'; batchSize: number; maxBatchTokens: number },
  ): Promise<Float32Array>;
}

export interface BatcherOptions {
  /** Padded tokens per model call; also when a waiting batch is full enough to go without waiting out the window. */
  maxBatchTokens: number;
  /** Requests that may wait for the model; one more is refused with {@link QueueFullError}. */
  maxQueue: number;
  /** How long the first waiting request holds the batch open for others. 0 turns batching off. */
  batchWaitMs: number;
  /** false: every request gets a model call of its own (the baseline the benchmark compares against). */
  batching?: boolean;
  /** Called after each model call with how many requests and sequences it served. */
  onBatch?: (requests: number, sequences: number, ms: number) => void;
}

export class QueueFullError extends Error {
  constructor(maxQueue: number) {
    super(`the server is busy: ${maxQueue} requests are already waiting; retry shortly`);
  }
}

export class ShuttingDownError extends Error {
  constructor() {
    super('the server is shutting down');
  }
}

interface Job {
  sequences: readonly Encoded[];
  tokens: number;
  enqueuedAt: number;
  resolve: (scores: Float32Array) => void;
  reject: (error: Error) => void;
}

export interface Submitted {
  scores: Promise<Float32Array>;
  /** Takes the request out of the queue if it is still waiting; false once its model call has started. */
  cancel: () => boolean;
}

/**
 * Dynamic batching across requests: tokenized pairs from concurrent requests are pooled and scored in one
 * `scoreEncoded` call, and each request gets back exactly its own slice. One model call runs at a time, because
 * onnxruntime already spreads one call over every intra-op thread; a second concurrent call would only contend.
 * While a call runs, new requests pile up and go together in the next one, so under load batches form without
 * any added wait.
 */
export class ScoreBatcher {
  private readonly queue: Job[] = [];
  private queuedTokens = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly batching: boolean;

  constructor(
    private readonly scorer: SequenceScorer,
    private readonly options: BatcherOptions,
  ) {
    for (const key of ['maxBatchTokens', 'maxQueue'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) throw new Error(`${key}: expected a positive integer, got ${options[key]}`);
    }
    if (!Number.isFinite(options.batchWaitMs) || options.batchWaitMs < 0) {
      throw new Error(`batchWaitMs: expected a non-negative number, got ${options.batchWaitMs}`);
    }
    this.batching = options.batching !== false && options.batchWaitMs > 0;
  }

  /** Requests waiting plus requests in the model call now running. */
  get depth(): number {
    return this.queue.length + this.running;
  }

  submit(sequences: readonly Encoded[]): Submitted {
    if (this.closed) return { scores: Promise.reject(new ShuttingDownError()), cancel: () => false };
    if (this.queue.length >= this.options.maxQueue) {
      return { scores: Promise.reject(new QueueFullError(this.options.maxQueue)), cancel: () => false };
    }
    if (sequences.length === 0) return { scores: Promise.resolve(new Float32Array(0)), cancel: () => false };
    let job!: Job;
    const scores = new Promise<Float32Array>((resolve, reject) => {
      let tokens = 0;
      for (const s of sequences) tokens += s.inputIds.length;
      job = { sequences, tokens, enqueuedAt: performance.now(), resolve, reject };
    });
    this.queue.push(job);
    this.queuedTokens += job.tokens;
    this.pump();
    return {
      scores,
      cancel: () => {
        const at = this.queue.indexOf(job);
        if (at < 0) return false;
        this.queue.splice(at, 1);
        this.queuedTokens -= job.tokens;
        return true;
      },
    };
  }

  /** Refuses new work and resolves once every accepted request has been scored. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // Waiting requests were accepted, so they are served rather than dropped.
    this.pump(true);
    if (this.depth === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(now = false): void {
    if (this.running > 0 || this.queue.length === 0) {
      if (this.running === 0 && this.queue.length === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      return;
    }
    if (this.batching && !now && !this.closed) {
      const waited = performance.now() - this.queue[0].enqueuedAt;
      if (waited < this.options.batchWaitMs && this.queuedTokens < this.options.maxBatchTokens) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, this.options.batchWaitMs - waited);
        return;
      }
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const jobs = this.take();
    this.running = jobs.length;
    void this.run(jobs).finally(() => {
      this.running = 0;
      this.pump(this.closed);
    });
  }

  /** The head of the queue, then as many following requests as fit in the token budget (never splitting one). */
  private take(): Job[] {
    const jobs = [this.queue.shift()!];
    let tokens = jobs[0].tokens;
    while (this.batching && this.queue.length > 0 && tokens + this.queue[0].tokens <= this.options.maxBatchTokens) {
      const next = this.queue.shift()!;
      tokens += next.tokens;
      jobs.push(next);
    }
    for (const job of jobs) this.queuedTokens -= job.tokens;
    return jobs;
  }

  private async run(jobs: Job[]): Promise<void> {
    const sequences = jobs.flatMap((job) => job.sequences);
    const started = performance.now();
    let scores: Float32Array;
    try {
      scores = await this.scorer.scoreEncoded(sequences, {
        activation: 'none',
        // Only the token budget bounds a model call; scoreEncoded length-sorts, so padding stays small.
        batchSize: sequences.length,
        maxBatchTokens: this.options.maxBatchTokens,
      });
    } catch (error) {
      for (const job of jobs) job.reject(error as Error);
      return;
    }
    this.options.onBatch?.(jobs.length, sequences.length, performance.now() - started);
    let offset = 0;
    for (const job of jobs) {
      job.resolve(scores.slice(offset, offset + job.sequences.length));
      offset += job.sequences.length;
    }
  }
}

/**
 * Serialises embedding requests with the same bounded queue, so that an embedding burst cannot grow memory without
 * limit or starve reranking of the cores.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(private readonly maxQueue: number) {}

  get depth(): number {
    return this.pending;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.pending >= this.maxQueue) return Promise.reject(new QueueFullError(this.maxQueue));
    this.pending++;
    const result = this.tail.then(task).finally(() => {
      this.pending--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  async drain(): Promise<void> {
    await this.tail;
  }
}
