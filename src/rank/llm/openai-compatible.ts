import { ProviderError, type ChatProvider, type ChatRequest } from './chat-provider.js';
import { InputError } from '../../errors.js';

export const OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1';
/** The article's model for the LLM stage. */
export const OPENROUTER_DEFAULT_MODEL = 'google/gemini-2.0-flash-001';

export interface OpenAICompatibleOptions {
  /** Up to and including `/v1`, e.g. `http://127.0.0.1:8080/v1` (llama-server, vLLM) or `http://127.0.0.1:11434/v1` (Ollama). */
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  /** Longest answer in tokens (default 1024). */
  maxTokens?: number;
  /** Default 0: the most likely ranking, the same every time where the backend allows. */
  temperature?: number;
  /** Extra headers (OpenRouter's `HTTP-Referer` / `X-Title`, a proxy's auth). */
  headers?: Record<string, string>;
  /** Where the RANKWISE_LLM_* / OPENROUTER_API_KEY variables are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** The settings actually used, after options and environment were combined. */
export interface ResolvedEndpoint {
  baseUrl: string;
  model: string;
  apiKey?: string;
}

/**
 * Explicit options win; then RANKWISE_LLM_BASE_URL, RANKWISE_LLM_MODEL and RANKWISE_LLM_API_KEY; then, for
 * OpenRouter only, OPENROUTER_API_KEY. The base URL defaults to OpenRouter and the model to the article's when the
 * endpoint is OpenRouter, else to "default" (llama-server ignores the name; Ollama and vLLM need the real one).
 */
export function resolveEndpoint(options: OpenAICompatibleOptions = {}): ResolvedEndpoint {
  const env = options.env ?? process.env;
  const baseUrl = (options.baseUrl ?? nonEmpty(env.RANKWISE_LLM_BASE_URL) ?? OPENROUTER_BASE_URL).replace(/\/+$/, '');
  try {
    const { protocol } = new URL(baseUrl);
    if (protocol !== 'http:' && protocol !== 'https:') throw new InputError('not http');
  } catch {
    throw new InputError(`baseUrl: expected an http(s) URL such as ${OPENROUTER_BASE_URL}, got ${JSON.stringify(baseUrl)}`);
  }
  const openRouter = isOpenRouter(baseUrl);
  const model = options.model ?? nonEmpty(env.RANKWISE_LLM_MODEL) ?? (openRouter ? OPENROUTER_DEFAULT_MODEL : 'default');
  const apiKey = options.apiKey ?? nonEmpty(env.RANKWISE_LLM_API_KEY) ?? (openRouter ? nonEmpty(env.OPENROUTER_API_KEY) : undefined);
  if (openRouter && !apiKey) throw new InputError('apiKey: OpenRouter needs a key: set OPENROUTER_API_KEY (or RANKWISE_LLM_API_KEY, or pass apiKey)');
  return { baseUrl, model, ...(apiKey ? { apiKey } : {}) };
}

export function isOpenRouter(baseUrl: string): boolean {
  return new URL(baseUrl).hostname === 'openrouter.ai';
}

/**
 * Any OpenAI-compatible `/chat/completions` endpoint: OpenRouter by default, also Ollama, vLLM and llama.cpp's
 * llama-server. Asks for structured output (`response_format: json_schema`, strict) and returns the message text.
 * Time-outs and retries belong to the caller, through `request.signal`.
 */
export class OpenAICompatibleProvider implements ChatProvider {
  readonly endpoint: ResolvedEndpoint;
  private readonly maxTokens: number;
  private readonly temperature: number;
  private readonly headers: Record<string, string>;

  constructor(options: OpenAICompatibleOptions = {}) {
    this.endpoint = resolveEndpoint(options);
    this.maxTokens = options.maxTokens ?? 1024;
    this.temperature = options.temperature ?? 0;
    this.headers = options.headers ?? {};
    if (!Number.isInteger(this.maxTokens) || this.maxTokens < 1) throw new InputError(`maxTokens: expected a positive integer, got ${this.maxTokens}`);
  }

  get name(): string {
    return `${this.endpoint.model}@${new URL(this.endpoint.baseUrl).host}`;
  }

  async complete(request: ChatRequest): Promise<string> {
    const url = `${this.endpoint.baseUrl}/chat/completions`;
    const body = {
      model: this.endpoint.model,
      messages: [
        { role: 'system', content: request.system },
        { role: 'user', content: request.user },
      ],
      temperature: this.temperature,
      max_tokens: this.maxTokens,
      response_format: {
        type: 'json_schema',
        json_schema: { name: request.schemaName ?? 'response', strict: true, schema: request.schema },
      },
    };
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.endpoint.apiKey ? { authorization: `Bearer ${this.endpoint.apiKey}` } : {}),
        ...this.headers,
      },
      body: JSON.stringify(body),
      signal: request.signal,
    });
    const text = await response.text();
    if (!response.ok) {
      // Rate limits, time-outs and server errors pass; a bad key or a malformed request will not fix itself.
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      throw new ProviderError(`HTTP ${response.status} from ${url}: ${text.slice(0, 200)}`, retryable);
    }
    let parsed: { choices?: Array<{ message?: { content?: unknown } }> };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProviderError(`${url}: the response is not JSON: ${JSON.stringify(text.slice(0, 120))}`, true);
    }
    const content = parsed.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new ProviderError(`${url}: the response has no choices[0].message.content string`, true);
    return content;
  }

  /** Nothing to free: each request is a plain fetch. */
  async dispose(): Promise<void> {}

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
