// rankwise/llm: the LLM list-wise reranker and its providers (OpenAI-compatible HTTP, or node-llama-cpp in process,
// loaded on first use).
export { LlmListwiseRanker, type LlmListwiseOptions, type LlmRankedResults, type LlmRankReport, type LlmWindowReport } from './listwise-ranker.js';
export { type ChatProvider, type ChatRequest, type JsonSchema } from './chat-provider.js';
export { OpenAICompatibleProvider, resolveEndpoint, OPENROUTER_BASE_URL, OPENROUTER_DEFAULT_MODEL, type OpenAICompatibleOptions } from './openai-compatible.js';
export { LlamaCppProvider, findDefaultGguf, type LlamaCppOptions } from './llama-cpp.js';
export { parseLlmSpec, createChatProvider, defaultLlmSpec, type LlmSpec } from './provider-spec.js';
export { RANKING_SCHEMA, rankingSchema } from './ranking-schema.js';
export { buildRankingPrompt, sanitizeForPrompt, type RankingPrompt } from './ranking-prompt.js';
export { parseRankingAnswer, validateRanking, type RankingRepairs, type ValidatedRanking } from './ranking-answer.js';
export { slidingWindows, rankWithSlidingWindow, type Window } from './sliding-window.js';
export { Retrier, backoffDelay, type RetryOptions } from './retry.js';
