/**
 * What may be stored as publication data or a notification payload: plain JSON that every wire
 * format (JSON frames for WebSocket, SSE, NDJSON and polling; STOMP bodies) encodes back to the
 * same value. Checked iteratively, so a value nested far too deep cannot overflow the stack here.
 */

/**
 * True when `value` holds arrays or objects nested more than `maxDepth` levels
 * (`1` and `"a"` are 0 levels, `[]` and `{}` 1, `[{}]` 2). Stops at the first level too deep.
 */
export function nestsDeeper(value: unknown, maxDepth: number): boolean {
  return walk(value, maxDepth, false) !== undefined;
}

/**
 * Why `value` cannot be stored as `name`, or undefined when it can. Refused: nesting deeper than
 * `maxDepth` levels (the message names the `maxDepth` setting), `undefined`, functions, symbols,
 * bigints, non-finite numbers (`1e400` parses as Infinity), and objects that are not plain
 * (class instances such as Date, whose JSON is something else).
 */
export function payloadProblem(value: unknown, maxDepth: number, name: string): string | undefined {
  const problem = walk(value, maxDepth, true);
  return problem === undefined ? undefined : `${name} ${problem}`;
}

function walk(root: unknown, maxDepth: number, strict: boolean): string | undefined {
  const values: unknown[] = [root];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === 'object' && value !== null) {
      if (depth >= maxDepth) return `nests deeper than ${maxDepth} levels (maxDepth)`;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          values.push(value[i]);
          depths.push(depth + 1);
        }
        continue;
      }
      if (strict) {
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return 'holds an object that is not plain JSON';
      }
      for (const key of Object.keys(value)) {
        values.push((value as Record<string, unknown>)[key]);
        depths.push(depth + 1);
      }
    } else if (strict) {
      const problem = scalarProblem(value);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function scalarProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : 'holds a number JSON cannot carry (NaN or ±Infinity; numbers beyond ±1.8e308 parse as Infinity)';
    case 'object':
      return undefined; // null
    default:
      return `holds ${typeof value}, which JSON cannot carry`;
  }
}
