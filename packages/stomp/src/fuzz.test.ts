import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { StompParseError } from './errors.js';
import { escapeHeader, unescapeHeader } from './escape.js';
import {
  CLIENT_COMMANDS,
  SERVER_COMMANDS,
  STOMP_VERSIONS,
  isEscapeExempt,
  type StompCommand,
  type StompFrame,
  type StompHeader,
  type StompSide,
  type StompVersion,
} from './frame.js';
import { StompParser } from './parser.js';
import { serializeFrame } from './serializer.js';
import { bytes, parse, split, type Event } from './testing.js';

const RUNS = { numRuns: 300 };

const headerText = fc.string({
  unit: fc.oneof(fc.constantFrom(':', '\n', '\r', '\\', 'c', 'n', ' '), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  maxLength: 12,
});

/** Makes a header representable where the frame is sent without escaping (or with 1.1's, which has no \r). */
function representable([name, value]: StompHeader, command: StompCommand, version: StompVersion): StompHeader {
  const n = name === '' ? 'h' : name;
  const v = value.endsWith('\r') ? `${value}.` : value;
  if (!isEscapeExempt(command) && version !== '1.0') return [n, version === '1.2' ? value : v];
  return [n.replace(/[:\n]/g, '_'), v.replace(/\n/g, '_')];
}

const frameFor = (side: StompSide, version: StompVersion) =>
  fc
    .record({
      command: fc.constantFrom<StompCommand>(...(side === 'server' ? CLIENT_COMMANDS : SERVER_COMMANDS)),
      headers: fc.array(fc.tuple(fc.oneof(headerText, fc.constant('content-length')), headerText), { maxLength: 6 }),
      body: fc.oneof(fc.uint8Array({ maxLength: 120 }), fc.constant(new Uint8Array(0))),
      eols: fc.array(fc.constantFrom('\n', '\r\n'), { maxLength: 3 }),
    })
    .map((f) => ({ ...f, headers: f.headers.map((h) => representable(h, f.command, version)) }));

const stream = fc
  .record({ side: fc.constantFrom<StompSide>('server', 'client'), version: fc.constantFrom(...STOMP_VERSIONS) })
  .chain(({ side, version }) =>
    fc.record({
      side: fc.constant(side),
      version: fc.constant(version),
      frames: fc.array(frameFor(side, version), { minLength: 1, maxLength: 5 }),
      cuts: fc.array(fc.nat(), { maxLength: 8 }),
    }),
  );

function cutsWithin(cuts: readonly number[], length: number): number[] {
  return [...new Set(cuts.map((c) => c % (length + 1)))].sort((a, b) => a - b);
}

function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('fuzz', () => {
  test('unescape inverts escape in every version', () => {
    fc.assert(
      fc.property(headerText, fc.constantFrom(...STOMP_VERSIONS), (t, version) => {
        assert.equal(unescapeHeader(escapeHeader(t, version), version), t);
      }),
      RUNS,
    );
  });

  test('frames round-trip through serializer and parser under any chunking', () => {
    fc.assert(
      fc.property(stream, ({ side, version, frames, cuts }) => {
        const parts: Uint8Array[] = [];
        const expected: Event[] = [];
        for (const f of frames) {
          parts.push(bytes(f.eols.join('')));
          expected.push(...f.eols.map((): Event => ({ type: 'heartbeat' })));
          parts.push(serializeFrame(f, version));
          const headers = f.headers.filter(([n]) => n !== 'content-length');
          if (f.body.length > 0) headers.push(['content-length', String(f.body.length)]);
          const frame: StompFrame = { command: f.command, headers, body: f.body };
          expected.push({ type: 'frame', frame });
        }
        const wire = concatAll(parts);
        const got = parse(split(wire, cutsWithin(cuts, wire.length)), { side, version });
        assert.equal(got.error, undefined);
        assert.deepEqual(got.events, expected);
      }),
      RUNS,
    );
  });

  const limits = fc.record({
    maxFrameSize: fc.integer({ min: 1, max: 400 }),
    maxHeaders: fc.integer({ min: 1, max: 8 }),
    maxHeaderLength: fc.integer({ min: 1, max: 60 }),
  });

  const garbage = fc.oneof(
    fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }).map(concatAll),
    fc.array(fc.constantFrom(...'SEND\nCONNECT\r\nMESSAGE\n\0:\\content-length:3\n\r\nabc\\c\\r\\t'.split('')), { maxLength: 200 }).map((cs) => bytes(cs.join(''))),
    stream.chain(({ version, frames }) =>
      fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
        .map((edits) => {
          const wire = concatAll(frames.map((f) => serializeFrame(f, version)));
          for (const [at, b] of edits) if (wire.length > 0) wire[at % wire.length] = b;
          return wire;
        }),
    ),
  );

  test('garbage yields only StompParseError values, never throws, and does not depend on chunking', { timeout: 10_000 }, () => {
    fc.assert(
      fc.property(
        garbage,
        fc.constantFrom<StompSide>('server', 'client'),
        fc.constantFrom(...STOMP_VERSIONS),
        limits,
        fc.array(fc.nat(), { maxLength: 8 }),
        (wire, side, version, lim, cuts) => {
          const whole = parse([wire], { side, version, limits: lim });
          const chunked = parse(split(wire, cutsWithin(cuts, wire.length)), { side, version, limits: lim });
          assert.ok(whole.error === undefined || whole.error instanceof StompParseError);
          assert.deepEqual(chunked.events, whole.events);
          assert.equal(chunked.error === undefined, whole.error === undefined);
          for (const f of whole.frames) {
            assert.ok(f.body.length <= lim.maxFrameSize);
            assert.ok(f.headers.length <= lim.maxHeaders);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('a failed parser keeps its error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (first, more) => {
        const parser = new StompParser({ side: 'server', onFrame: () => {} });
        const error = parser.push(first);
        fc.pre(error !== undefined);
        assert.equal(parser.push(more), error);
      }),
      RUNS,
    );
  });
});
