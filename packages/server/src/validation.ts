/**
 * Messages for settings validated with zod: every problem is one line `path: expected …, got …`,
 * the same for a library caller, a config file, a flag or an environment variable.
 */
import type { z } from 'zod';

/** One bad setting: where it is (`namespaces.chat.publish`) and what is wrong with it. */
export interface SettingProblem {
  path: string;
  message: string;
}

/**
 * The `error` parameter for a zod schema or check: `expected <what>, got <input>`.
 * A value of the wrong JSON type is named by its type only (`got string`), so a secret given in
 * the wrong place is not echoed; a value of the right type is shown (`got 70000`, `got "everyone"`).
 */
export function expected(what: string): { error: (issue: { code?: string; expected?: string; input?: unknown }) => string } {
  return { error: (issue) => `expected ${what}, got ${wrongType(issue) ? jsonType(issue.input) : show(issue.input)}` };
}

function wrongType(issue: { code?: string; expected?: string; input?: unknown }): boolean {
  if (issue.code !== 'invalid_type') return false;
  return !(typeof issue.input === 'number' && (issue.expected === 'int' || issue.expected === 'number'));
}

/** `string`, `number`, `boolean`, `null`, `array`, `object` or `undefined`. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A value as it would be written in JSON, cut to 60 characters. */
export function show(value: unknown): string {
  const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `a.b["bad ns"][""]`: plain keys joined by dots, others quoted in brackets. */
export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** One problem per bad value and per unknown key (`jwt.secert: unknown key`), in input order. */
export function settingProblems(error: z.ZodError): SettingProblem[] {
  const out: SettingProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: pathText([...issue.path, key]), message: 'unknown key' });
    } else if (issue.code === 'invalid_key') {
      out.push({ path: pathText(issue.path), message: issue.issues[0]?.message ?? issue.message });
    } else {
      out.push({ path: pathText(issue.path), message: issue.message });
    }
  }
  return out;
}

/** `path: message`, or just the message for the whole input. */
export function problemLine(p: SettingProblem): string {
  return p.path === '' ? p.message : `${p.path}: ${p.message}`;
}
