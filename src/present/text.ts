/** One line of at most `width` characters: whitespace collapsed, a cut marked with an ellipsis. */
export function ellipsis(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}
