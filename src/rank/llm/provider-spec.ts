import type { ChatProvider } from './chat-provider.js';
import { findDefaultGguf, LlamaCppProvider, type LlamaCppOptions } from './llama-cpp.js';
import { OPENROUTER_BASE_URL, OpenAICompatibleProvider } from './openai-compatible.js';
import { InputError } from '../../errors.js';

/** Which LLM backend a command line asked for. */
export type LlmSpec =
  | { kind: 'local'; modelPath?: string }
  | { kind: 'openrouter'; model?: string }
  | { kind: 'openai-compatible'; baseUrl?: string };

/**
 * `local[:PATH.gguf]`, `openrouter[:MODEL]`, `openai-compatible` (endpoint from RANKWISE_LLM_* variables) or an
 * http(s) base URL such as `http://127.0.0.1:8080/v1`.
 */
export function parseLlmSpec(spec: string, what = '--llm'): LlmSpec {
  const [head, ...rest] = spec.split(':');
  const tail = rest.join(':');
  if (/^https?$/i.test(head)) return { kind: 'openai-compatible', baseUrl: spec };
  if (head === 'local') return tail ? { kind: 'local', modelPath: tail } : { kind: 'local' };
  if (head === 'openrouter') return tail ? { kind: 'openrouter', model: tail } : { kind: 'openrouter' };
  if (head === 'openai-compatible' && !tail) return { kind: 'openai-compatible' };
  throw new InputError(`${what}: expected local[:PATH.gguf], openrouter[:MODEL], openai-compatible or an http(s) URL, got "${spec}"`);
}

/** True when some hosted or configured endpoint is set in the environment. */
export function remoteLlmConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OPENROUTER_API_KEY?.trim() || env.RANKWISE_LLM_API_KEY?.trim() || env.RANKWISE_LLM_BASE_URL?.trim());
}

/** The LLM to use when none is named: a configured endpoint when there is one, else a local GGUF, else none. */
export function defaultLlmSpec(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LlmSpec | undefined {
  if (remoteLlmConfigured(env)) return { kind: 'openai-compatible' };
  return findDefaultGguf(cwd, env) ? { kind: 'local' } : undefined;
}

export function createChatProvider(spec: LlmSpec, local: Omit<LlamaCppOptions, 'modelPath'> = {}): ChatProvider {
  switch (spec.kind) {
    case 'local':
      return new LlamaCppProvider({ ...local, ...(spec.modelPath ? { modelPath: spec.modelPath } : {}) });
    case 'openrouter':
      return new OpenAICompatibleProvider({ baseUrl: OPENROUTER_BASE_URL, ...(spec.model ? { model: spec.model } : {}) });
    case 'openai-compatible':
      return new OpenAICompatibleProvider(spec.baseUrl ? { baseUrl: spec.baseUrl } : {});
  }
}
