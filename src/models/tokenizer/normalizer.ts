/** Hugging Face's BertNormalizer, equal to the Rust implementation over every code point. */
import { charFlags, CHINESE, CONTROL, isHigh, isLow, MARK, NFD_STARTER, WHITESPACE } from './char-tables.js';

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

/** Rust BertNormalizer: clean_text, then CJK spacing, then NFD + drop nonspacing marks, then per-char lowercase. */
export function bertNormalize(text: string, options: BertNormalizerOptions): string {
  const flags = charFlags();
  let out = '';
  let from = 0;
  let changed = false;
  let nonAscii = false;
  let starters = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const unit = text.charCodeAt(i);
    // Printable ASCII is left alone by every step before lowercasing.
    if (unit >= 0x20 && unit < 0x7f) continue;
    let cp = unit;
    let width = 1;
    let lone = false;
    if (unit >= 0xd800 && unit <= 0xdfff) {
      if (isHigh(unit) && i + 1 < n && isLow(text.charCodeAt(i + 1))) {
        cp = ((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        width = 2;
      } else {
        // Node hands a lone surrogate to Rust as U+FFFD.
        cp = 0xfffd;
        lone = true;
      }
    }
    if (cp >= 0x80) nonAscii = true;
    const f = flags[cp];
    if (f & NFD_STARTER) starters = true;
    let replacement: string | undefined;
    if (options.cleanText && f & CONTROL) replacement = '';
    else if (options.cleanText && f & WHITESPACE) replacement = unit === 0x20 ? undefined : ' ';
    else if (options.handleChineseChars && f & CHINESE) replacement = ` ${text.slice(i, i + width)} `;
    else if (lone) replacement = '\ufffd';
    if (replacement !== undefined) {
      out += text.slice(from, i) + replacement;
      from = i + width;
      changed = true;
    }
    i += width - 1;
  }
  let result = changed ? out + text.slice(from) : text;
  if (nonAscii && options.stripAccents) result = dropMarks(starters ? nfdAround(result, flags) : result.normalize('NFD'), flags);
  if (options.lowercase) {
    // Rust lowercases char by char; String#toLowerCase would turn a word-final Σ into ς.
    result = (nonAscii ? result.replace(/Σ/g, 'σ') : result).toLowerCase();
  }
  return result;
}

/**
 * Calls `onHit(i, width)` for each code point of `text` at or above `minUnit` whose flags include `flag`; a
 * surrogate pair is one code point of width 2.
 */
function forEachFlagged(text: string, minUnit: number, flags: Uint8Array, flag: number, onHit: (i: number, width: number) => void): void {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const unit = text.charCodeAt(i);
    if (unit < minUnit) continue;
    let cp = unit;
    let width = 1;
    if (isHigh(unit) && i + 1 < n && isLow(text.charCodeAt(i + 1))) {
      cp = ((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
      width = 2;
    }
    if (flags[cp] & flag) onHit(i, width);
    i += width - 1;
  }
}

/** NFD of the stretches between NFD_STARTER code points, which stay as they are. */
function nfdAround(text: string, flags: Uint8Array): string {
  let out = '';
  let from = 0;
  forEachFlagged(text, 0x80, flags, NFD_STARTER, (i, width) => {
    out += text.slice(from, i).normalize('NFD') + text.slice(i, i + width);
    from = i + width;
  });
  return out + text.slice(from).normalize('NFD');
}

function dropMarks(text: string, flags: Uint8Array): string {
  let out = '';
  let from = 0;
  forEachFlagged(text, 0x300, flags, MARK, (i, width) => {
    out += text.slice(from, i);
    from = i + width;
  });
  return from === 0 ? text : out + text.slice(from);
}
