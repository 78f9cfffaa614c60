#!/usr/bin/env node
// The format check of `npm test`: what .editorconfig says, for every text file git tracks.
// UTF-8 without a BOM, LF line ends, a final newline, no trailing spaces or tabs, indentation
// by spaces (two per level in code; not checked beyond "no tabs"). Layout within a line is left
// to the author: a reformatter here would rewrite the whole history's style for no fault found.
//   node scripts/format-check.mjs          check, list every problem, exit 1 when there is one
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TEXT = /\.(ts|mts|cts|js|mjs|cjs|json|md|yml|yaml|html|css|sh|txt)$|(^|\/)(\.editorconfig|\.gitignore|run)$/;
const root = new URL('..', import.meta.url).pathname;
const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f !== '' && TEXT.test(f));

const problems = [];
for (const file of files) {
  let buf;
  try {
    buf = readFileSync(`${root}${file}`);
  } catch {
    continue; // deleted in the work tree, not yet staged
  }
  const say = (line, what) => problems.push(`${file}${line ? `:${line}` : ''}: ${what}`);
  if (buf.length === 0) continue;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) say(0, 'starts with a byte-order mark');
  const text = buf.toString('utf8');
  if (text.includes('\uFFFD') && !buf.includes(Buffer.from('\uFFFD'))) say(0, 'is not valid UTF-8');
  if (!text.endsWith('\n')) say(0, 'has no final newline');
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.endsWith('\r')) say(i + 1, 'ends with CRLF');
    else if (/[ \t]$/.test(line) && !file.endsWith('.md')) say(i + 1, 'has trailing whitespace');
    if (/^ *\t/.test(line) && !file.endsWith('.md')) say(i + 1, 'indents with a tab');
  });
}
for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error(`format check: ${problems.length} problem(s) in ${files.length} files (see .editorconfig)`);
  process.exit(1);
}
console.log(`format check: ${files.length} files ok`);
