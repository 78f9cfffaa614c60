import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionSecrets } from './session-secrets.js';

describe('SessionSecrets', () => {
  it('issues a distinct 192-bit base64url secret per session, accepted only for that session', () => {
    const secrets = new SessionSecrets();
    const a = secrets.issue('a');
    const b = secrets.issue('b');
    assert.match(a, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(a, b);
    assert.equal(secrets.check('a', a), true);
    assert.equal(secrets.check('a', b), false);
    assert.equal(secrets.check('b', b), true);
    assert.equal(secrets.check('nobody', a), false);
  });

  it('refuses a missing, empty, shorter, longer or one-character-off secret', () => {
    const secrets = new SessionSecrets();
    const s = secrets.issue('a');
    const flipped = s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');
    const multibyte = 'é'.repeat(32);
    for (const wrong of [undefined, '', s.slice(1), `${s}x`, flipped, multibyte]) assert.equal(secrets.check('a', wrong), false, String(wrong));
  });

  it('keeps nothing per session: the same secret on every issue, another node\'s secrets never pass', () => {
    const secrets = new SessionSecrets();
    const s = secrets.issue('a');
    assert.equal(secrets.issue('a'), s);
    assert.equal(new SessionSecrets().check('a', s), false);
  });

  it('refuses a secret that decodes to the same bytes but is not the text issued', () => {
    const secrets = new SessionSecrets();
    // a client whose secret has a character that standard base64 spells otherwise (- or _)
    let client = 0;
    while (!/[-_]/.test(secrets.issue(String(client)))) client++;
    const s = secrets.issue(String(client));
    const std = Buffer.from(s, 'base64url').toString('base64');
    assert.notEqual(std, s);
    assert.equal(secrets.check(String(client), std), false);
    assert.equal(secrets.check(String(client), s), true);
  });
});
