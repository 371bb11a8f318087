import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaJsonSchemaGrammar, LlamaModel } from 'node-llama-cpp';
import { ProviderError, type ChatProvider, type ChatRequest } from './chat-provider.js';
import { InputError, ModelNotFoundError, importOptional } from '../../errors.js';


const loadLlamaCpp = () => importOptional('node-llama-cpp', 'The in-process LLM provider (llama-cpp)', () => import('node-llama-cpp'));

export interface LlamaCppOptions {
  /** A GGUF file; default `findDefaultGguf()`. */
  modelPath?: string;
  /** CPU threads (default 1): node-llama-cpp's own default made each token take ~860 ms on a 2-core machine. */
  threads?: number;
  /** Context window in tokens (default the model's training context, at most 4096). */
  contextSize?: number;
  /** Longest answer in tokens (default 256). */
  maxTokens?: number;
  /** 0 (default) is greedy decoding: the same answer every time. */
  temperature?: number;
  /** Sampling seed when temperature > 0 (default 0). */
  seed?: number;
}

/** The tiny test model kept beside the project (see ../shared/models/README.md), relative to the working folder. */
export const SHARED_TEST_GGUF = '../shared/models/stories260K.gguf';

/** RANKWISE_LLM_GGUF when set, else the shared test model when it exists under `cwd`, else undefined. */
export function findDefaultGguf(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.RANKWISE_LLM_GGUF?.trim();
  if (fromEnv) return fromEnv;
  const shared = join(cwd, SHARED_TEST_GGUF);
  return existsSync(shared) ? shared : undefined;
}

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
}

/**
 * A local GGUF model run in-process by node-llama-cpp (llama.cpp). The answer is constrained by a grammar built from
 * the request's JSON schema, so it always parses; what it says inside the schema is the caller's to validate. The
 * model loads on the first call; calls run one at a time on a single context sequence.
 */
export class LlamaCppProvider implements ChatProvider {
  readonly modelPath: string;
  private readonly threads: number;
  private readonly contextSize?: number;
  private readonly maxTokens: number;
  private readonly temperature: number;
  private readonly seed: number;
  private loading?: Promise<Loaded>;
  private queue: Promise<unknown> = Promise.resolve();
  /** Compiling a grammar costs more than a short answer; windows of the same size share one. */
  private readonly grammars = new Map<string, Promise<LlamaJsonSchemaGrammar<never>>>();

  constructor(options: LlamaCppOptions = {}) {
    const modelPath = options.modelPath ?? findDefaultGguf();
    if (!modelPath) throw new ModelNotFoundError(`modelPath: expected a GGUF file (option modelPath or RANKWISE_LLM_GGUF); ${SHARED_TEST_GGUF} is not there either`);
    if (!existsSync(modelPath)) throw new ModelNotFoundError(`modelPath: no such GGUF file: ${modelPath}`);
    this.modelPath = modelPath;
    this.threads = options.threads ?? 1;
    this.contextSize = options.contextSize;
    this.maxTokens = options.maxTokens ?? 256;
    this.temperature = options.temperature ?? 0;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new InputError(`threads: expected a positive integer, got ${this.threads}`);
    if (!Number.isInteger(this.maxTokens) || this.maxTokens < 1) throw new InputError(`maxTokens: expected a positive integer, got ${this.maxTokens}`);
  }

  get name(): string {
    return `llama.cpp:${this.modelPath.split(/[\\/]/).pop()}`;
  }

  complete(request: ChatRequest): Promise<string> {
    const run = this.queue.then(() => this.generate(request));
    this.queue = run.catch(() => undefined);
    // A call that times out while queued behind another returns at once; its turn then ends before generating.
    return abortable(run, request.signal);
  }

  private async generate(request: ChatRequest): Promise<string> {
    request.signal?.throwIfAborted();
    // Loading is not abortable; a time-out still returns on time and the load carries on for the next call.
    const loaded = await abortable(this.load(), request.signal);
    const { LlamaChatSession } = await loadLlamaCpp();
    const key = JSON.stringify(request.schema);
    if (!this.grammars.has(key)) this.grammars.set(key, loaded.llama.createGrammarForJsonSchema(request.schema as never));
    const grammar = await this.grammars.get(key)!;
    await loaded.sequence.clearHistory();
    const session = new LlamaChatSession({ contextSequence: loaded.sequence, systemPrompt: request.system, autoDisposeSequence: false });
    try {
      const promptTokens = loaded.model.tokenize(`${request.system}\n${request.user}`).length;
      if (promptTokens + this.maxTokens > loaded.context.contextSize) {
        throw new ProviderError(
          `prompt: ${promptTokens} tokens plus ${this.maxTokens} for the answer exceed the ${loaded.context.contextSize}-token context of ${this.name}; use a smaller windowSize or maxDocumentChars`,
          false,
        );
      }
      return await session.prompt(request.user, {
        grammar,
        maxTokens: this.maxTokens,
        temperature: this.temperature,
        seed: this.seed,
        signal: request.signal,
      });
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  private load(): Promise<Loaded> {
    this.loading ??= (async () => {
      // Imported on first use: loading llama.cpp's native binding is not free, and most rankwise runs never need it.
      const { getLlama, LlamaLogLevel } = await loadLlamaCpp();
      const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
      const model = await llama.loadModel({ modelPath: this.modelPath });
      const contextSize = this.contextSize ?? Math.min(model.trainContextSize, 4096);
      const context = await model.createContext({ contextSize, threads: this.threads, sequences: 1 });
      return { llama, model, context, sequence: context.getSequence() };
    })();
    return this.loading;
  }

  async dispose(): Promise<void> {
    if (!this.loading) return;
    const loading = this.loading;
    this.loading = undefined;
    this.grammars.clear();
    await this.queue;
    const loaded = await loading.catch(() => undefined);
    if (!loaded) return;
    await loaded.context.dispose();
    await loaded.model.dispose();
    await loaded.llama.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
