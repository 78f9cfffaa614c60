/**
 * Whether two JSON texts say the same thing token for token: whitespace between tokens, the
 * spelling of strings (`"\u00e9"` and `"é"`) and of numbers (`1.0` and `1`, `1E2` and `100`) may
 * differ; everything else may not. So `JSON.stringify(JSON.parse(text))` passes when parsing lost
 * nothing, and fails when it did: a number JavaScript cannot hold exactly (`12345678901234567890`,
 * `1e400`) or a repeated object key.
 */

type Token = { kind: 'punct' | 'string' | 'number' | 'literal'; text: string };

/** The tokens of valid JSON text, in order; whitespace skipped. */
function* tokens(text: string): Generator<Token> {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      i++;
    } else if (c === 0x22) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      yield { kind: 'string', text: text.slice(i, j + 1) };
      i = j + 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && /[0-9eE.+-]/.test(text[j]!)) j++;
      yield { kind: 'number', text: text.slice(i, j) };
      i = j;
    } else if (c >= 0x61 && c <= 0x7a) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 0x61 && text.charCodeAt(j) <= 0x7a) j++;
      yield { kind: 'literal', text: text.slice(i, j) };
      i = j;
    } else {
      yield { kind: 'punct', text: text[i]! };
      i++;
    }
  }
}

/** A JSON number as sign, significant digits and exponent: `-1.50e2` → `-15e1`; zero → `0`. */
function exactNumber(text: string): string {
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) return text;
  const frac = m[3] ?? '';
  let digits = (m[2]! + frac).replace(/^0+/, '');
  if (digits === '') return '0';
  let exp = BigInt(m[4] ?? '0') - BigInt(frac.length);
  const trimmed = digits.replace(/0+$/, '');
  exp += BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${m[1]}${digits}e${exp}`;
}

function sameToken(a: Token, b: Token): boolean {
  if (a.kind !== b.kind) return false;
  if (a.text === b.text) return true;
  if (a.kind === 'string') return JSON.parse(a.text) === JSON.parse(b.text);
  if (a.kind === 'number') return exactNumber(a.text) === exactNumber(b.text);
  return false;
}

/**
 * True when the valid JSON texts `a` and `b` hold the same tokens with the same values (see the
 * module comment). Linear in their length; both must be valid JSON.
 */
export function sameJson(a: string, b: string): boolean {
  const ta = tokens(a);
  const tb = tokens(b);
  for (;;) {
    const x = ta.next();
    const y = tb.next();
    if (x.done === true || y.done === true) return x.done === true && y.done === true;
    if (!sameToken(x.value, y.value)) return false;
  }
}
