/** Added tokens (`[CLS]`, user-added words) found in text before the model's own tokenization runs. */
import { charFlags, WHITESPACE } from './char-tables.js';

export interface AddedToken {
  content: string;
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}

/** Finds added tokens (leftmost, then longest, as Rust's aho-corasick matcher does) in a string. */
export class AddedTokenSplitter {
  private readonly byFirst = new Map<string, AddedToken[]>();
  private readonly firsts: string[];

  constructor(tokens: readonly AddedToken[]) {
    for (const token of tokens) {
      if (token.content.length === 0) continue;
      const first = token.content[0];
      const list = this.byFirst.get(first) ?? [];
      list.push(token);
      this.byFirst.set(first, list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.content.length - a.content.length);
    this.firsts = [...this.byFirst.keys()];
  }

  get empty(): boolean {
    return this.firsts.length === 0;
  }

  /** Calls `onText` for each stretch between matches and `onToken` for each match, in order. */
  split(text: string, onText: (from: number, to: number) => void, onToken: (id: number) => void): void {
    let pos = 0;
    let textFrom = 0;
    const n = text.length;
    while (pos < n) {
      let at = -1;
      let token: AddedToken | undefined;
      let searchFrom = pos;
      while (searchFrom < n) {
        let candidate = -1;
        for (const first of this.firsts) {
          const hit = text.indexOf(first, searchFrom);
          if (hit >= 0 && (candidate < 0 || hit < candidate)) candidate = hit;
        }
        if (candidate < 0) break;
        token = this.byFirst.get(text[candidate])!.find((t) => text.startsWith(t.content, candidate));
        if (token) {
          at = candidate;
          break;
        }
        searchFrom = candidate + 1;
      }
      if (!token || at < 0) break;
      let start = at;
      let end = at + token.content.length;
      const flags = charFlags();
      if (token.lstrip) while (start > textFrom && flags[text.charCodeAt(start - 1)] & WHITESPACE) start--;
      if (token.rstrip) while (end < n && flags[text.charCodeAt(end)] & WHITESPACE) end++;
      if (start > textFrom) onText(textFrom, start);
      onToken(token.id);
      pos = end;
      textFrom = end;
    }
    if (textFrom < n) onText(textFrom, n);
  }
}
