/**
 * Training queries made from unlabelled documents, each paired with the document it came from:
 * - `title`: a document's title (BEIR's `title`, or `metadata.title`) for the rest of its text;
 * - `ict`: the inverse cloze task (Lee et al. 2019): one sentence as the query, the passage without it as the
 *   positive (kept in the passage one time in ten, so that exact overlap is not the only thing learned);
 * - `crop`: independent cropping (Izacard et al. 2021, Contriever): a short span of the document as the query and
 *   a longer, different span as the positive.
 * - `question`: a question an LLM wrote for the document (`generateQuestions`, when a provider is configured).
 */
import { SeededRandom } from '../models/random.js';
import type { IndexedDocument } from '../retrieve/retriever.js';
import { InputError } from '../errors.js';

/** `question` pairs come from `generateQuestions` (an LLM); the other kinds from the text alone. */
export type PseudoQueryKind = 'title' | 'ict' | 'crop' | 'question';
export const PSEUDO_QUERY_KINDS: readonly PseudoQueryKind[] = ['title', 'ict', 'crop'];

export interface PseudoQuery {
  query: string;
  /** The text the query should find: the document, or the part of it the query was not taken from. */
  positive: string;
  documentId: string;
  kind: PseudoQueryKind;
}

export interface PseudoQueryOptions {
  kinds?: readonly PseudoQueryKind[];
  /** ICT and crop queries per document, each (default 1). */
  perDocument?: number;
  seed?: number;
}

const SENTENCE = /[^.!?\n]+(?:[.!?]+|\n|$)/g;

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

function title(document: IndexedDocument): string | undefined {
  const value = document.metadata?.title;
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Sentences of 4 to 40 words, the ones that read like a query or a claim. */
function sentences(text: string): string[] {
  return (text.match(SENTENCE) ?? []).map((s) => s.trim()).filter((s) => {
    const n = words(s).length;
    return n >= 4 && n <= 40;
  });
}

export function makePseudoQueries(documents: readonly IndexedDocument[], options: PseudoQueryOptions = {}): PseudoQuery[] {
  const kinds = options.kinds ?? PSEUDO_QUERY_KINDS;
  for (const kind of kinds) if (!PSEUDO_QUERY_KINDS.includes(kind)) throw new InputError(`kinds: expected title, ict or crop, got ${JSON.stringify(kind)}`);
  const perDocument = options.perDocument ?? 1;
  if (!Number.isInteger(perDocument) || perDocument < 1) throw new InputError(`perDocument: expected a positive integer, got ${perDocument}`);
  const random = new SeededRandom(options.seed ?? 42);
  const out: PseudoQuery[] = [];
  for (const document of documents) {
    const heading = title(document);
    // The title is in front of the text (BEIR documents are read so); the positive is the body without it.
    const body = heading && document.text.startsWith(heading) ? document.text.slice(heading.length).trim() : document.text;
    if (kinds.includes('title') && heading && words(body).length >= 8) out.push({ query: heading, positive: body, documentId: document.id, kind: 'title' });
    if (kinds.includes('ict')) {
      const candidates = sentences(body);
      if (candidates.length >= 2) {
        for (let q = 0; q < perDocument; q++) {
          const pick = candidates[Math.floor(random.next() * candidates.length)];
          const keep = random.next() < 0.1;
          const rest = keep ? body : body.replace(pick, ' ').replace(/\s+/g, ' ').trim();
          if (words(rest).length >= 8) out.push({ query: pick, positive: heading ? `${heading} ${rest}` : rest, documentId: document.id, kind: 'ict' });
        }
      }
    }
    if (kinds.includes('crop')) {
      const tokens = words(body);
      if (tokens.length >= 24) {
        for (let q = 0; q < perDocument; q++) {
          const queryLength = 6 + Math.floor(random.next() * 10);
          const start = Math.floor(random.next() * (tokens.length - queryLength));
          const spanLength = Math.min(tokens.length, Math.max(24, Math.floor(tokens.length * (0.5 + 0.5 * random.next()))));
          const spanStart = Math.floor(random.next() * (tokens.length - spanLength + 1));
          out.push({
            query: tokens.slice(start, start + queryLength).join(' '),
            positive: (heading ? `${heading} ` : '') + tokens.slice(spanStart, spanStart + spanLength).join(' '),
            documentId: document.id,
            kind: 'crop',
          });
        }
      }
    }
  }
  return out;
}

/** The slice of a chat provider this needs (src/rank/llm's providers all fit). */
export interface QuestionWriter {
  readonly name: string;
  complete(request: { system: string; user: string; schema: Record<string, unknown>; schemaName?: string; signal?: AbortSignal }): Promise<string>;
}

export interface GeneratedQuestionOptions {
  /** Documents to write a question for: the first n in a seeded order (default 200: an LLM call each). */
  documents?: number;
  seed?: number;
  /** Characters of the document shown to the model (default 1,500). */
  maxCharacters?: number;
  timeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

const QUESTION_SCHEMA = {
  type: 'object',
  properties: { question: { type: 'string', minLength: 8, maxLength: 200 } },
  required: ['question'],
  additionalProperties: false,
};

/**
 * Questions an LLM writes for documents (GPL's query generation, Wang et al. 2022, with a chat model instead of T5).
 * A call that fails, times out or answers something unusable is skipped and counted, never fatal: adaptation goes on
 * with the other pseudo-queries.
 */
export async function generateQuestions(
  documents: readonly IndexedDocument[],
  writer: QuestionWriter,
  options: GeneratedQuestionOptions = {},
): Promise<{ pairs: PseudoQuery[]; failed: number }> {
  const count = options.documents ?? 200;
  if (!Number.isInteger(count) || count < 0) throw new InputError(`documents: expected a non-negative integer, got ${count}`);
  const chosen = new SeededRandom(options.seed ?? 42).shuffle(documents.map((_, i) => i)).slice(0, count).sort((a, b) => a - b);
  const pairs: PseudoQuery[] = [];
  let failed = 0;
  for (const [n, index] of chosen.entries()) {
    const document = documents[index];
    try {
      const answer = await writer.complete({
        system: 'You write search queries. Given a passage, write one question that a person could type into a search engine and that this passage answers. Do not copy a sentence of the passage. Answer as JSON: {"question": "..."}',
        user: document.text.slice(0, options.maxCharacters ?? 1500),
        schema: QUESTION_SCHEMA,
        schemaName: 'question',
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      const question = (JSON.parse(answer) as { question?: unknown }).question;
      if (typeof question === 'string' && words(question).length >= 2 && question.length <= 300) {
        pairs.push({ query: question.trim(), positive: document.text, documentId: document.id, kind: 'question' });
      } else failed++;
    } catch {
      failed++;
    }
    options.onProgress?.(n + 1, chosen.length);
  }
  return { pairs, failed };
}
