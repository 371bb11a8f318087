import type { JsonSchema } from './chat-provider.js';

/** What the LLM must answer: `{"ranking": [document numbers, best first]}`, nothing else (the article's schema). */
export const RANKING_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    ranking: { type: 'array', items: { type: 'integer' } },
  },
  required: ['ranking'],
  additionalProperties: false,
};

export const RANKING_SCHEMA_NAME = 'ranking_response';

/**
 * The schema for one request of `count` documents: the article's, with the numbers' range and the list's length
 * bounded. Backends that enforce the bounds (llama.cpp grammars do `maxItems`) cannot run on forever; the answer is
 * validated either way, since not every backend enforces every keyword.
 */
export function rankingSchema(count: number): JsonSchema {
  return {
    ...RANKING_SCHEMA,
    properties: {
      ranking: { type: 'array', items: { type: 'integer', minimum: 1, maximum: count }, maxItems: count },
    },
  };
}
