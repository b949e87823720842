import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { C8yTokenError, parseReply } from '../src/index.ts';
import { parseDuration, parsePort } from '../src/values.ts';
import { signToken } from '../sim/bridge.ts';

/** Property tests: the parsers that read untrusted input never crash, and say no with a usage error. */
describe('fuzzing the parsers of untrusted input', () => {
  test('parseReply classifies any payload without throwing, and accepts only a 71 message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (payload, retained) => {
        const reply = parseReply(payload, retained);
        if ('token' in reply) assert.ok(Buffer.from(payload).toString('latin1').trimStart().startsWith('71'));
        else assert.equal(typeof reply.ignored, 'string');
      }),
      { numRuns: 2000 },
    );
  });

  test('parseReply survives JWT-shaped garbage: three base64url parts of any JSON', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value) ?? '').toString('base64url');
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (claims, signature) => {
        const reply = parseReply(Buffer.from(`71,${b64({ alg: 'HS256' })}.${b64(claims)}.${signature}`), false);
        assert.ok('token' in reply || typeof reply.ignored === 'string');
      }),
      { numRuns: 2000 },
    );
  });

  test('parseReply accepts a real token however the message is spaced, and never a retained one', async () => {
    const token = await signToken();
    fc.assert(
      fc.property(fc.stringMatching(/^[ \t]{0,3}$/), fc.stringMatching(/^[ \t\r\n]{0,3}$/), (before, afterToken) => {
        const fresh = parseReply(Buffer.from(`71,${before}${token}${afterToken}`), false);
        assert.ok('token' in fresh && fresh.token.token === token);
        assert.ok('ignored' in parseReply(Buffer.from(`71,${token}`), true));
      }),
    );
  });

  test('parseDuration returns whole non-negative milliseconds or throws a usage error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{0,12}(\.\d{0,4})?(ms|s|m|h|d)?$/)), (text) => {
        try {
          const ms = parseDuration(text, '--timeout');
          assert.ok(Number.isInteger(ms) && ms >= 0 && ms <= 2 ** 31 - 1, `${text} -> ${ms}`);
        } catch (error) {
          assert.ok(error instanceof C8yTokenError && error.kind === 'usage', String(error));
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('parsePort returns 1-65535 or throws a usage error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer({ min: -10, max: 70000 }).map(String)), (text) => {
        try {
          const port = parsePort(text, '--mqtt-port');
          assert.ok(Number.isInteger(port) && port >= 1 && port <= 65535);
        } catch (error) {
          assert.ok(error instanceof C8yTokenError && error.kind === 'usage');
        }
      }),
      { numRuns: 3000 },
    );
  });
});
