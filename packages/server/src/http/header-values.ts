/**
 * Splits a header value at `sep` outside double-quoted strings (RFC 9110 §5.6.4 quoted-string,
 * with backslash escapes inside quotes), e.g. `a;b="x;y"` at `;` → [`a`, `b="x;y"`]. No trimming.
 */
export function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
