/**
 * Guards against wrong cache hits. A sentence encoder puts "how do I enable two-factor login" and "how do I disable
 * two-factor login" almost on top of each other (USE Lite cosine 0.94, higher than many true paraphrases), because
 * the two differ in one token. No threshold separates those; a few surface checks do. Each rule looks for a specific
 * kind of contradiction between the new query and a cached one and vetoes the hit when it finds it:
 *
 * - antonym: one query has a word and the other its opposite (enable/disable, upload/download, buy/sell, lock/unlock,
 *   and any word against its "un-" form), when neither query has both.
 * - negation: one query is negated (not, no, never, without, n't) and the other is not.
 * - direction: a shared word is the target of "to/into" in one query and of "from/out of" in the other ("flights to
 *   Paris" vs "flights from Paris"), or the same preposition points at different shared words ("Celsius to
 *   Fahrenheit" vs "Fahrenheit to Celsius").
 * - role swap: the same content words with two of them exchanged around a third ("can a landlord evict a tenant" vs
 *   "can a tenant evict a landlord").
 * - identifier: the queries mention different identifiers: tokens that mix letters and digits (model numbers "m1",
 *   "x7", "iPhone14", SKUs "SKU-123-B", error codes "E0x80070005", versions "v2.3.1" or "2.3.1") or codes joined by
 *   underscores ("ERR_CONNECTION_RESET"). They must match exactly, ignoring case, "-" and "_" between parts and a
 *   "v" before a version; one query naming an identifier the other lacks is a veto too. Numbers with a unit
 *   ("10GB", "4k", "3rd") are numbers, not identifiers, so "10GB" and "10 GB" agree.
 * - number: the queries mention different numbers ("3 nights" vs "5 nights", "two" counts as 2).
 * - entity: a capitalised name in one query does not occur in the other ("... on Windows" vs "... on macOS").
 * - alternative: each query names a different member of the same closed set (platforms, browsers, weekdays, months,
 *   currencies, languages, meals, colours), even in lower case.
 *
 * The rules only veto; they never create a hit. They are deliberately narrow: a paraphrase that swaps a word for its
 * opposite twice, or a contradiction by an unlisted antonym, gets past them.
 */

export type GuardRule = 'antonym' | 'negation' | 'direction' | 'role swap' | 'identifier' | 'number' | 'entity' | 'alternative';

export interface GuardVeto {
  rule: GuardRule;
  /** What differs, for logs and the simulation table: `enable / disable`. */
  detail: string;
}

/** Decides whether a cached query may answer the new one; a veto blocks the hit whatever the similarity score. */
export type Guard = (query: string, cached: string) => GuardVeto | null;

const ANTONYM_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['enable', 'disable'], ['activate', 'deactivate'], ['allow', 'block'], ['allow', 'deny'], ['permit', 'forbid'],
  ['add', 'remove'], ['add', 'delete'], ['include', 'exclude'], ['increase', 'decrease'], ['raise', 'lower'],
  ['more', 'less'], ['higher', 'lower'], ['high', 'low'], ['maximum', 'minimum'], ['max', 'min'], ['most', 'least'],
  ['upload', 'download'], ['import', 'export'], ['buy', 'sell'], ['send', 'receive'], ['deposit', 'withdraw'],
  ['lend', 'borrow'], ['open', 'close'], ['start', 'stop'], ['begin', 'end'], ['encrypt', 'decrypt'],
  ['show', 'hide'], ['login', 'logout'], ['accept', 'decline'], ['accept', 'reject'], ['approve', 'reject'],
  ['before', 'after'], ['first', 'last'], ['early', 'late'], ['earliest', 'latest'], ['cheap', 'expensive'],
  ['cheapest', 'expensive'], ['fast', 'slow'], ['fastest', 'slowest'], ['best', 'worst'], ['hot', 'cold'],
  ['warm', 'cold'], ['long', 'short'], ['old', 'new'], ['win', 'lose'], ['gain', 'lose'], ['pass', 'fail'],
  ['upgrade', 'downgrade'], ['hire', 'fire'], ['arrive', 'depart'], ['arrival', 'departure'], ['inbound', 'outbound'],
  ['plus', 'minus'], ['public', 'private'], ['online', 'offline'], ['above', 'below'], ['inside', 'outside'],
  ['sunrise', 'sunset'], ['permanent', 'temporary'], ['permanently', 'temporarily'], ['delete', 'restore'],
  ['remove', 'restore'], ['cancel', 'renew'], ['give', 'receive'], ['join', 'leave'], ['connect', 'disconnect'], ['install', 'uninstall'],
];

/** Closed sets whose members exclude each other: asking about one member is not asking about another. */
const ALTERNATIVES: Readonly<Record<string, readonly string[]>> = {
  platform: ['windows', 'macos', 'mac', 'linux', 'android', 'ios', 'iphone', 'ipad', 'chromebook', 'ubuntu'],
  browser: ['chrome', 'firefox', 'safari', 'edge', 'opera'],
  weekday: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
  month: ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'],
  currency: ['dollar', 'euro', 'pound', 'yen', 'franc', 'usd', 'eur', 'gbp', 'jpy'],
  language: ['english', 'spanish', 'french', 'german', 'italian', 'japanese', 'chinese', 'portuguese', 'python', 'javascript', 'java', 'rust'],
  meal: ['breakfast', 'lunch', 'dinner'],
  colour: ['red', 'green', 'blue', 'yellow', 'black', 'white', 'orange', 'purple'],
  season: ['spring', 'summer', 'autumn', 'winter'],
};

const NUMBER_WORDS: Readonly<Record<string, string>> = {
  // "one" is left out: it is far more often a pronoun ("set a new one") than a count.
  zero: '0', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
  eleven: '11', twelve: '12', twenty: '20', thirty: '30', fifty: '50', hundred: '100', thousand: '1000',
};

/** Capitalised because they are acronyms, not because they name something: a PDF is a PDF on every side. */
const COMMON_ACRONYMS = new Set(['pdf', 'csv', 'api', 'url', 'faq', 'id', 'pin', 'sms', 'usb', 'vpn', 'ip', 'ok', 'tv', 'pc', 'wifi', '2fa', 'kb', 'mb', 'gb', 'tb', 'ram', 'ssd', 'cpu', 'gpu']);

const NEGATIONS = new Set(['not', 'no', 'never', 'without', 'none', 'nothing', 'nobody', 'neither', 'nor']);
const TOWARDS = new Set(['to', 'into', 'towards', 'toward', 'onto']);
const AWAY = new Set(['from', 'outof']);
/** Words skipped between a preposition and the word it governs. */
const DETERMINERS = new Set(['the', 'a', 'an', 'my', 'your', 'our', 'their', 'his', 'her', 'its', 'this', 'that', 'these', 'those', 'some', 'one']);
const STOPWORDS = new Set([
  ...DETERMINERS, ...NEGATIONS, ...TOWARDS, ...AWAY,
  'i', 'me', 'we', 'us', 'you', 'he', 'she', 'it', 'they', 'them', 'im', 'is', 'are', 'was', 'were', 'be', 'been', 'am',
  'do', 'does', 'did', 'have', 'has', 'had', 'can', 'could', 'will', 'would', 'should', 'shall', 'may', 'might', 'must',
  'how', 'what', 'when', 'where', 'why', 'which', 'who', 'whom', 'whose', 'there', 'here', 'of', 'in', 'on', 'at', 'by',
  'for', 'with', 'about', 'as', 'and', 'or', 'but', 'if', 'so', 'than', 'too', 'very', 'just', 'also', 'any', 'all',
  'each', 'every', 'please', 'way', 'ca', 'wo', 'get', 'out',
]);

/** Phrases rewritten to one token first, so that "turn on" and "enable" agree and "log in" is not "in". */
const PHRASES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:ca|can)n['’]t\b|\bcannot\b/g, 'can not'],
  [/\bwon['’]t\b/g, 'will not'],
  [/n['’]t\b/g, ' not'],
  // "can't remember my password" is the same question as "forgot my password", not its negation.
  [/\b(?:can|do|does|did) not (?:remember|recall)\b/g, 'forget'],
  [/\bforgot(?:ten)?\b/g, 'forget'],
  [/\b(?:turn|switch)(?:ed|ing|s)? on\b/g, 'enable'],
  [/\b(?:turn|switch)(?:ed|ing|s)? off\b/g, 'disable'],
  [/\b(?:log|sign)(?:ged|ging|s)? ?in(?:to)?\b/g, 'login'],
  [/\b(?:log|sign)(?:ged|ging|s)? ?out\b/g, 'logout'],
  [/\bout of\b/g, 'outof'],
];

/** Crude suffix stripping: enough for enable/enabled/enabling and flight/flights to meet. */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 4 && w.endsWith('es')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

const ANTONYMS = new Map<string, Set<string>>();
for (const [a, b] of ANTONYM_PAIRS) {
  for (const [x, y] of [[stem(a), stem(b)], [stem(b), stem(a)]]) {
    if (!ANTONYMS.has(x)) ANTONYMS.set(x, new Set());
    ANTONYMS.get(x)!.add(y);
  }
}
const ALTERNATIVE_OF = new Map<string, string>();
for (const [set, members] of Object.entries(ALTERNATIVES)) for (const m of members) ALTERNATIVE_OF.set(m, set);

/**
 * A run of letters and digits joined by ".", "-" or "_" ("SKU-123-B", "v2.3.1", "ERR_CONNECTION_RESET"); the
 * lookbehind keeps a match from starting inside a longer word. "/" and ":" split ("m1/m2" is two identifiers).
 */
const COMPOUND = /(?<![\p{L}\p{N}])[\p{L}\p{N}]+(?:[._-][\p{L}\p{N}]+)*/gu;
/** Units and ordinal suffixes after a number: "10GB", "4k", "3rd", "5pm" are a number with a unit, not a code. */
const NUMBER_WITH_UNIT =
  /^(\d+(?:\.\d+)?)(?:st|nd|rd|th|k|m|b|g|t|kb|mb|gb|tb|kbps|mbps|gbps|hz|khz|mhz|ghz|ms|s|sec|secs|min|mins|h|hr|hrs|d|am|pm|px|pt|mm|cm|m|km|mi|ft|in|kg|g|lb|lbs|oz|ml|l|w|kw|kwh|v|mah|x|p|fps|gen)$/;
const PLACEHOLDER = ' identifier ';
/** Letter-digit words that are common vocabulary, not product or error identifiers. */
const COMMON_ALPHANUMERIC = new Set(['2fa', 'mp3', 'mp4', 'h264', 'h265', 'a4', 'covid19', 'b2b', 'b2c', 'p2p', 'i18n', 'l10n', 'a11y', 'k8s', 'w2', '1099']);

/**
 * The identifiers in a text, normalised (lower case, no "-" or "_", "v" before a version dropped), and the text with
 * each replaced by a lower-case placeholder word, so that their digits are not read again as free-standing numbers
 * nor their capitals as names, while the words around them keep their positions. Numbers with a unit go to `numbers`.
 */
function identifiersOf(text: string): { identifiers: Set<string>; numbers: string[]; rest: string } {
  const identifiers = new Set<string>();
  const numbers: string[] = [];
  const rest = text.replace(COMPOUND, (token) => {
    const lower = token.toLowerCase();
    const withUnit = NUMBER_WITH_UNIT.exec(lower);
    if (withUnit) {
      numbers.push(withUnit[1]);
      return PLACEHOLDER;
    }
    const hasDigit = /\p{N}/u.test(token);
    const hasLetter = /\p{L}/u.test(token);
    const version = /^v?\d+(?:\.\d+){2,}$/.test(lower) || /^v\d+(?:\.\d+)*$/.test(lower);
    const code = (hasDigit && hasLetter) || version || (hasLetter && /_/.test(token) && /[\p{L}\p{N}]_[\p{L}\p{N}]/u.test(token));
    if (!code || COMMON_ALPHANUMERIC.has(lower)) return token;
    identifiers.add(version ? lower.replace(/^v/, '') : lower.replace(/[-_]/g, ''));
    return PLACEHOLDER;
  });
  return { identifiers, numbers, rest };
}

interface Token {
  /** Lower case, after phrase rewriting. */
  word: string;
  stem: string;
  /** Written with a capital letter somewhere past the sentence start: a name. */
  capitalised: boolean;
}

interface Analysed {
  tokens: Token[];
  stems: Set<string>;
  words: Set<string>;
  negated: boolean;
  numbers: Set<string>;
  /** Normalised identifiers (see identifiersOf). */
  identifiers: Set<string>;
  /** Stem -> 'towards' | 'away': the role a preposition gives the word it governs. */
  roles: Map<string, 'towards' | 'away'>;
  /** Preposition -> stems it governs. */
  targets: Map<string, string[]>;
  content: string[];
}

function analyse(text: string): Analysed {
  // Names are found on the original casing; everything else on the rewritten lower-case text. Identifiers ("SKU-123-B",
  // "M2") are compared by their own rule, so names are looked for in the text without them.
  const ids = identifiersOf(text);
  const names = new Set<string>();
  const raw = ids.rest.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];
  raw.forEach((t, i) => {
    const name = t.toLowerCase().replace(/['’]s$/, '');
    if (i > 0 && /\p{Lu}/u.test(t) && t !== 'I' && !/^I['’]/.test(t) && !COMMON_ACRONYMS.has(name)) names.add(name);
  });
  let lower = ` ${text.toLowerCase()} `;
  for (const [pattern, replacement] of PHRASES) lower = lower.replace(pattern, replacement);
  const words = (lower.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? []).map((w) => w.replace(/['’]s$/, '').replace(/['’]/g, ''));
  const tokens = words.map((word) => ({ word, stem: stem(word), capitalised: names.has(word) }));

  const roles = new Map<string, 'towards' | 'away'>();
  const targets = new Map<string, string[]>();
  tokens.forEach((t, i) => {
    const direction = TOWARDS.has(t.word) ? 'towards' : AWAY.has(t.word) ? 'away' : null;
    if (!direction) return;
    let j = i + 1;
    while (j < tokens.length && DETERMINERS.has(tokens[j].word)) j++;
    if (j >= tokens.length || STOPWORDS.has(tokens[j].word)) return;
    roles.set(tokens[j].stem, direction);
    targets.set(t.word, [...(targets.get(t.word) ?? []), tokens[j].stem]);
  });

  // Numbers are read from the text without its identifiers: the 3 in "v2.3.1" or the 123 in "SKU-123-B" is part of
  // a code, compared whole by the identifier rule.
  const numbers = new Set<string>(ids.numbers);
  const free = ids.rest.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];
  for (const word of free) {
    if (/^\d+(?:[.,]\d+)?$/.test(word)) numbers.add(word.replace(',', '.'));
    else if (NUMBER_WORDS[word]) numbers.add(NUMBER_WORDS[word]);
  }
  return {
    tokens,
    stems: new Set(tokens.map((t) => t.stem)),
    words: new Set(tokens.map((t) => t.word)),
    negated: tokens.some((t) => NEGATIONS.has(t.word)),
    numbers,
    identifiers: ids.identifiers,
    roles,
    targets,
    content: tokens.filter((t) => !STOPWORDS.has(t.word)).map((t) => t.stem),
  };
}

/** The word as written for a stem, for readable veto details. */
function wordOf(a: Analysed, stemmed: string): string {
  return a.tokens.find((t) => t.stem === stemmed)?.word ?? stemmed;
}

function antonymVeto(a: Analysed, b: Analysed): GuardVeto | null {
  for (const x of a.stems) {
    if (b.stems.has(x)) continue;
    for (const y of b.stems) {
      if (a.stems.has(y)) continue;
      const opposite = ANTONYMS.get(x)?.has(y) || (!STOPWORDS.has(x) && (y === `un${x}` || x === `un${y}`));
      if (opposite) return { rule: 'antonym', detail: `${wordOf(a, x)} / ${wordOf(b, y)}` };
    }
  }
  return null;
}

function directionVeto(a: Analysed, b: Analysed): GuardVeto | null {
  for (const [word, role] of a.roles) {
    const other = b.roles.get(word);
    if (other && other !== role) return { rule: 'direction', detail: `"${wordOf(a, word)}": ${role} / ${other}` };
  }
  for (const [preposition, aTargets] of a.targets) {
    for (const x of aTargets) {
      if (!b.stems.has(x)) continue;
      const swapped = (b.targets.get(preposition) ?? []).find((y) => y !== x && a.stems.has(y) && !aTargets.includes(y));
      if (swapped) return { rule: 'direction', detail: `${preposition} ${wordOf(a, x)} / ${preposition} ${wordOf(b, swapped)}` };
    }
  }
  return null;
}

function roleSwapVeto(a: Analysed, b: Analysed): GuardVeto | null {
  if (a.content.length !== b.content.length) return null;
  const differ = a.content.map((w, i) => (w === b.content[i] ? -1 : i)).filter((i) => i >= 0);
  if (differ.length !== 2) return null;
  const [i, j] = differ;
  const exchanged = a.content[i] === b.content[j] && a.content[j] === b.content[i];
  // Adjacent words trade places in ordinary rephrasing ("password reset" / "reset password"); around a verb they swap roles.
  return exchanged && j - i >= 2 ? { rule: 'role swap', detail: `${wordOf(a, a.content[i])} ... ${wordOf(a, a.content[j])} / ${wordOf(b, b.content[i])} ... ${wordOf(b, b.content[j])}` } : null;
}

function numberVeto(a: Analysed, b: Analysed): GuardVeto | null {
  const onlyA = [...a.numbers].filter((n) => !b.numbers.has(n));
  const onlyB = [...b.numbers].filter((n) => !a.numbers.has(n));
  return onlyA.length + onlyB.length > 0 ? { rule: 'number', detail: `${onlyA.join(',') || '-'} / ${onlyB.join(',') || '-'}` } : null;
}

function identifierVeto(a: Analysed, b: Analysed): GuardVeto | null {
  const onlyA = [...a.identifiers].filter((x) => !b.identifiers.has(x));
  const onlyB = [...b.identifiers].filter((x) => !a.identifiers.has(x));
  return onlyA.length + onlyB.length > 0 ? { rule: 'identifier', detail: `${onlyA.join(',') || '-'} / ${onlyB.join(',') || '-'}` } : null;
}

function entityVeto(a: Analysed, b: Analysed): GuardVeto | null {
  const missing = (from: Analysed, other: Analysed) =>
    from.tokens.find((t) => t.capitalised && !other.words.has(t.word) && !other.stems.has(t.stem))?.word;
  const onlyA = missing(a, b);
  const onlyB = missing(b, a);
  return onlyA || onlyB ? { rule: 'entity', detail: `${onlyA ?? '-'} / ${onlyB ?? '-'}` } : null;
}

function alternativeVeto(a: Analysed, b: Analysed): GuardVeto | null {
  for (const x of a.words) {
    const set = ALTERNATIVE_OF.get(x);
    if (!set || b.words.has(x)) continue;
    const y = [...b.words].find((w) => w !== x && ALTERNATIVE_OF.get(w) === set && !a.words.has(w));
    if (y) return { rule: 'alternative', detail: `${x} / ${y} (${set})` };
  }
  return null;
}

/** The default guard: the first rule that finds a contradiction between the two queries, or null. */
export function contradiction(query: string, cached: string): GuardVeto | null {
  const a = analyse(query);
  const b = analyse(cached);
  if (a.negated !== b.negated) return { rule: 'negation', detail: a.negated ? 'negated / plain' : 'plain / negated' };
  return antonymVeto(a, b) ?? directionVeto(a, b) ?? roleSwapVeto(a, b) ?? identifierVeto(a, b) ?? numberVeto(a, b) ?? alternativeVeto(a, b) ?? entityVeto(a, b);
}
