/** A value as an error message quotes it: JSON, cut to 40 characters; `nothing` for a missing field. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  const json = JSON.stringify(value);
  if (json === undefined) return typeof value;
  return json.length > 40 ? `${json.slice(0, 39)}…` : json;
}
