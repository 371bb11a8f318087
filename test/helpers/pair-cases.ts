/** Texts and (query, document, maxLength) cases for tokenizer parity tests; everything is seeded and repeatable. */
import { SeededRandom } from '../../src/models/random.js';

/** A uniform [0, 1) stream from the project's seeded generator, the same on every platform. */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

const LONG_UNKNOWN = 'x'.repeat(101);
const LONG_KNOWN_PIECES = 'ab'.repeat(50);

/** Hand-picked inputs where tokenizers are known to disagree. */
export const TRICKY_TEXTS: readonly string[] = [
  '',
  ' ',
  '\t\n\r  \n',
  'Hello, my dog is cute',
  'café naïve Ångström résumé coöperate façade',
  'CAFÉ NAÏVE ÅNGSTRÖM',
  'e\u0301 a\u0300\u0316 o\u0308\u0304 combining marks',
  '東京は日本の首都です。中文字符测试',
  '한국어 텍스트 토큰화',
  'カタカナとひらがな',
  'astral CJK a𠀀b 𠀁 and U+2B820 a\u{2B820}b',
  'emoji 😀 👍🏽 ❤️ 🇩🇪 🥰 🤩',
  'ZWJ family 👨‍👩‍👧‍👦 and 🏳️‍🌈',
  'zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u00adsoft',
  'control\u0000null\u0001\u0007bell\u001bescape\u007fdel\u0085nel',
  'tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeed',
  'nbsp\u00a0thin\u2009ideographic\u3000line\u2028para\u2029',
  '!!!???...,,,;;;:::---___***"""\'\'\'',
  '((([[[{{{<<<>>>}}}]]])))',
  '¿¡«»„“”‘’‚‹›—–…·•',
  '3.14159 1,000,000 -42 +7 1e10 0x1F 12:30 2024-01-15 50% $100 €20 ¥300',
  'https://example.com/path?query=1&x=y#frag user@example.org',
  'MiXeD CaSe WoRdS iPhone McDonald\'s O\'Neill',
  `unknown ${LONG_UNKNOWN} word`,
  `known pieces ${LONG_KNOWN_PIECES} word`,
  `exactly100 ${'y'.repeat(100)} chars`,
  'Arabic: مرحبا بالعالم، كيف حالك؟',
  'Hebrew: שלום עולם, מה שלומך?',
  'Cyrillic: Привет, мир! ЁЛКА ёлка',
  'Greek: ΟΔΟΣ ΣΟΦΙΑ Σ σ ς ΑΘΗΝΑ',
  'Turkish: İstanbul IĞDIR ıi',
  'German: Straße GROSSE ß ẞ',
  'Devanagari: नमस्ते दुनिया',
  'Thai: สวัสดีชาวโลก',
  'special tokens in text: [CLS] [SEP] [MASK] [PAD] [UNK] [cls] [sep] [SEP][SEP]',
  'ligatures ﬁ ﬂ ﬀ and fullwidth ＡＢＣ！？',
  'superscripts x² H₂O ½ ⅓ №',
  'math ∑∫√∞≈≠ ≤≥ ∀∃∈',
  'lone surrogates a\ud800b c\udc00d',
  'newer unicode: Vithkuqi \u{105C9} Tulu \u{11383} Kirat \u{16D68} marks a\u0301\u{1E08F}',
  '\u0301leading combining mark',
  'private use \ue000\uf8ff and unassigned \u0378\u{E0001}',
  'a'.repeat(300),
  'word '.repeat(50).trim(),
];

const POOL: readonly string[] = [
  'the', 'of', 'and', 'a', 'to', 'in', 'is', 'you', 'that', 'it', 'he', 'was', 'for', 'on', 'are', 'as', 'with',
  'search', 'ranking', 'retrieval', 'reranker', 'cross-encoder', 'bi-encoder', 'transformer', 'tokenization',
  'unaffable', 'electroencephalography', 'antidisestablishmentarianism', 'pneumonoultramicroscopic',
  'Running', 'RUNNING', 'runner', "don't", "it's", "o'clock", 'e-mail', 'co-operate', 'U.S.A.', 'Ph.D.',
  'café', 'naïve', 'Ångström', 'Zürich', 'São', 'Paulo', 'jalapeño', 'crème', 'brûlée', 'Øresund',
  '東京', '北京大学', '日本語', '한국', 'ひらがな', '𠀀', '\u{2B820}', '😀', '👍🏽', '👨‍👩‍👧', '🇯🇵', '❤️',
  'مرحبا', 'שלום', 'Привет', 'ΣΟΦΟΣ', 'İzmir', 'straße', 'नमस्ते', 'สวัสดี',
  '2024', '3.14', '1,000', '-5', '42nd', '100%', '$9.99', 'v1.2.3', '0xDEADBEEF',
  'https://huggingface.co/bert-base-uncased', 'user@example.com', '#hashtag', '@mention', 'C++', 'C#', 'node.js',
  '...', '!!!', '?!', '--', '—', '"quoted"', '(paren)', '[bracket]', '{brace}', '<tag>', '&amp;',
  '[SEP]', '[CLS]', '[MASK]', '[UNK]',
  'zero\u200bwidth', 'soft\u00adhyphen', 'ctrl\u0007char', 'nul\u0000byte', 'e\u0301', 'n\u0303',
  LONG_UNKNOWN, 'ab'.repeat(60),
];

const SEPARATORS: readonly string[] = [' ', ' ', ' ', ' ', ' ', '', '\n', '\t', '  ', ', ', '. ', '\r\n', '\u00a0', '\u3000'];

/** Random text of `words` pool entries joined by random separators. */
export function randomText(random: () => number, words: number): string {
  let text = '';
  for (let i = 0; i < words; i++) {
    if (i > 0) text += SEPARATORS[Math.floor(random() * SEPARATORS.length)];
    text += POOL[Math.floor(random() * POOL.length)];
  }
  return text;
}

export interface PairCase {
  name: string;
  query: string;
  doc: string;
  maxLength: number;
}

const MAX_LENGTHS = [4, 5, 6, 8, 12, 16, 32, 64, 128, 256, 512] as const;

/** Every tricky text against a few partners, each at several lengths. */
export function handWrittenPairCases(): PairCase[] {
  const cases: PairCase[] = [];
  const longDoc = `${TRICKY_TEXTS.join(' ')} ${'lorem ipsum dolor sit amet '.repeat(800)}`;
  TRICKY_TEXTS.forEach((text, i) => {
    const partner = TRICKY_TEXTS[(i * 7 + 3) % TRICKY_TEXTS.length];
    cases.push({ name: `tricky ${i} as query`, query: text, doc: partner, maxLength: 512 });
    cases.push({ name: `tricky ${i} as doc`, query: partner, doc: text, maxLength: 512 });
    cases.push({ name: `tricky ${i} as doc, cut`, query: 'what is this?', doc: text, maxLength: 8 + (i % 5) });
    cases.push({ name: `tricky ${i} vs long doc`, query: text, doc: longDoc, maxLength: MAX_LENGTHS[i % MAX_LENGTHS.length] });
  });
  cases.push({ name: 'both empty', query: '', doc: '', maxLength: 512 });
  cases.push({ name: 'empty doc', query: 'a question', doc: '', maxLength: 512 });
  cases.push({ name: 'empty query', query: '', doc: 'a document', maxLength: 512 });
  cases.push({ name: 'whitespace only', query: ' \t', doc: '\n\n', maxLength: 4 });
  cases.push({ name: 'thousands of words', query: 'long document query', doc: 'word '.repeat(5000), maxLength: 512 });
  cases.push({ name: 'query alone too long', query: 'question '.repeat(600), doc: 'short doc', maxLength: 512 });
  cases.push({ name: 'query longer than half', query: 'question '.repeat(300), doc: 'document '.repeat(300), maxLength: 512 });
  cases.push({ name: 'query exactly half', query: 'q '.repeat(254), doc: 'd '.repeat(600), maxLength: 512 });
  cases.push({ name: 'query half plus one', query: 'q '.repeat(255), doc: 'd '.repeat(600), maxLength: 512 });
  cases.push({ name: 'exact fit', query: 'q '.repeat(9), doc: 'd '.repeat(500), maxLength: 512 });
  cases.push({ name: 'one over', query: 'q '.repeat(9), doc: 'd '.repeat(501), maxLength: 512 });
  cases.push({ name: 'minimum length', query: 'some query', doc: 'some document', maxLength: 4 });
  return cases;
}

/** `count` random cases: mostly short queries, documents from empty to thousands of words, some long queries. */
export function randomPairCases(seed: number, count: number): PairCase[] {
  const random = seededRandom(seed);
  const cases: PairCase[] = [];
  for (let i = 0; i < count; i++) {
    const kind = random();
    const queryWords = kind < 0.1 ? 0 : kind < 0.8 ? 1 + Math.floor(random() * 12) : 20 + Math.floor(random() * 400);
    const docKind = random();
    const docWords = docKind < 0.05 ? 0 : docKind < 0.6 ? Math.floor(random() * 80) : docKind < 0.9 ? 80 + Math.floor(random() * 600) : 1000 + Math.floor(random() * 3000);
    cases.push({
      name: `random ${i}`,
      query: randomText(random, queryWords),
      doc: randomText(random, docWords),
      maxLength: MAX_LENGTHS[Math.floor(random() * MAX_LENGTHS.length)],
    });
  }
  return cases;
}
