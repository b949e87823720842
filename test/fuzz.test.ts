import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { splitPage } from '../src/core/http/collection-page.ts';
import { retryAfter } from '../src/core/http/send.ts';
import { C8yTokenError } from '../src/core/errors.ts';
import { statusError } from '../src/core/http/failures.ts';
import { parseFormArg } from '../src/cli/curl/multipart.ts';
import { prepareRequest } from '../src/cli/curl/request.ts';
import { targetUrl } from '../src/core/http/target.ts';
import { parseReply } from '../src/core/token/reply.ts';
import { expandWriteOut, type TransferInfo } from '../src/cli/curl/write-out.ts';
import { parseDuration } from '../src/core/duration.ts';
import { parsePort } from '../src/core/whole-number.ts';
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

/** The parsers of curl's options (the user's input) and of what the tenant answers. */
describe('fuzzing the parsers of curl input and tenant answers', () => {
  const usage = (error: unknown) => error instanceof C8yTokenError && error.kind === 'usage';
  const CONTROL = /(?!\t)\p{Cc}/u;
  const tricky = fc.constantFrom(':', ';', ' ', '\t', '\r', '\n', '\x07', '\x7f', 'é', 'Accept', 'X-A', '"', '');
  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.array(tricky).map((parts) => parts.join('')),
  );

  test('-H: any header gives a valid name and value, or a usage error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          text,
          fc.tuple(text, tricky, text).map((parts) => parts.join('')),
        ),
        async (header) => {
          try {
            const { headers } = await prepareRequest({ headers: [header] });
            for (const [name, value] of headers) {
              assert.match(name, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
              assert.doesNotMatch(value, CONTROL);
            }
          } catch (error) {
            assert.ok(usage(error), String(error));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('-X: any method is an HTTP token or a usage error', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (method) => {
        try {
          assert.match((await prepareRequest({ method })).method, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
        } catch (error) {
          assert.ok(usage(error), String(error));
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('-F: any argument is a part or a usage error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          text,
          fc.tuple(text, fc.constantFrom('=', '=@', '=<', '="'), text).map((p) => p.join('')),
        ),
        (arg) => {
          try {
            const part = parseFormArg(arg);
            assert.equal(typeof part.name, 'string');
          } catch (error) {
            assert.ok(usage(error), String(error));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('the path: the token never leaves the tenant origin, and never reaches /apps/ or a script', () => {
    const base = new URL('https://t12345.eu-latest.cumulocity.com');
    const piece = fc.constantFrom(
      '/',
      '//',
      '\\',
      '/\\',
      '@',
      ':',
      '?',
      '#',
      '%2f',
      '%2e%2e/',
      '..',
      'apps',
      '.js',
      'evil.example',
      'https:',
      'http://',
      'HTTPS://',
      base.origin,
      ' ',
      '\t',
    );
    const path = fc.oneof(
      fc.string(),
      fc.webUrl(),
      fc.webPath(),
      fc.array(piece, { maxLength: 8 }).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(path, (candidate) => {
        let url: URL;
        try {
          url = targetUrl(base, candidate);
        } catch (error) {
          assert.ok(usage(error), String(error));
          return;
        }
        assert.equal(url.origin, base.origin, candidate);
        let decoded = url.pathname;
        try {
          decoded = decodeURIComponent(decoded);
        } catch {
          // sent as it is
        }
        decoded = decoded.replace(/\/{2,}/g, '/').toLowerCase();
        assert.ok(!/^\/apps(\/|$)/.test(decoded) && !decoded.endsWith('.js'), candidate);
      }),
      { numRuns: 5000 },
    );
  });

  test('-w: any template expands without throwing', () => {
    const info: TransferInfo = {
      url: '/x',
      urlEffective: '/x',
      method: 'GET',
      httpCode: 200,
      contentType: undefined,
      sizeDownload: 0,
      timeTotalMs: 1,
      numRedirects: 0,
      numRetries: 0,
      redirectUrl: undefined,
      exitCode: 0,
      errorMessage: undefined,
      headers: { a: 'b' },
    };
    const piece = fc.constantFrom(
      '%',
      '%{',
      '}',
      '%{http_code}',
      '%header{a}',
      '%{json}',
      '%{stderr}',
      '\\',
      '\\n',
      '%%',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          text,
          fc.array(fc.oneof(piece, fc.string()), { maxLength: 10 }).map((p) => p.join('')),
        ),
        (template) => {
          const { pieces, unknown } = expandWriteOut(template, info);
          for (const { stream, text: out } of pieces)
            assert.ok((stream === 'stdout' || stream === 'stderr') && typeof out === 'string');
          assert.ok(Array.isArray(unknown));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('an error body from the tenant becomes one bounded line, whatever it holds', () => {
    const body = fc.oneof(
      text,
      fc
        .record({ error: fc.oneof(text, fc.jsonValue()), message: fc.oneof(text, fc.jsonValue()) })
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), body, (status, answer) => {
        const error = statusError(status, 'GET', new URL('https://tenant.example/x'), answer);
        assert.equal(error.kind, 'http');
        assert.doesNotMatch(error.message, /[\p{Cc}]/u);
        assert.ok(error.message.length < 400, error.message);
      }),
      { numRuns: 2000 },
    );
  });

  test('Retry-After: any value is a wait from 0 to 10 minutes, or none', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          text,
          fc.integer().map(String),
          fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toUTCString())),
        ),
        (value) => {
          const wait = retryAfter({ 'retry-after': value });
          assert.ok(wait === undefined || (wait >= 0 && wait <= 600_000), `${value} -> ${wait}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('a collection page: splitPage finds every member and every item, byte for byte, however it is spaced', () => {
    const item = fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()));
    const page = fc.record({
      next: fc.string(),
      items: fc.array(item, { maxLength: 20 }),
      statistics: fc.record({ pageSize: fc.nat(), currentPage: fc.nat() }),
    });
    fc.assert(
      fc.property(page, fc.constantFrom(undefined, 1, '\t'), (value, indent) => {
        const members = splitPage(Buffer.from(JSON.stringify(value, null, indent)));
        assert.ok(members, 'a JSON object is split');
        assert.deepEqual([...members.arrays.keys()], ['items']);
        const items = members.arrays.get('items')!.map((bytes) => JSON.parse(bytes.toString('utf8')) as unknown);
        assert.deepEqual(items, JSON.parse(JSON.stringify(value.items)));
        const { items: _, ...others } = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
        assert.deepEqual(Object.fromEntries(members.values), others);
      }),
      { numRuns: 2000 },
    );
  });

  test('splitPage says no, without throwing, to anything but a whole JSON object', () => {
    const whole = fc
      .dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 })
      .map((value) => JSON.stringify({ items: [value, value] }));
    fc.assert(
      fc.property(whole, fc.nat(), (text, cut) => {
        // Every strict prefix of an object's text lacks its closing bracket.
        assert.equal(splitPage(Buffer.from(text.slice(0, cut % text.length))), undefined);
        assert.equal(splitPage(Buffer.from(`${text}x`)), undefined);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const members = splitPage(Buffer.from(bytes));
        if (members) assert.doesNotThrow(() => JSON.parse(Buffer.from(bytes).toString('utf8')));
      }),
      { numRuns: 2000 },
    );
    for (const text of [
      '',
      '[]',
      '"x"',
      '<html>maintenance</html>',
      '{"items":[{"id":"a1"},',
      '{"items":[}',
      '{"a":[1]]}',
      '{"items":[{"a":[1}]]}',
    ]) {
      assert.equal(splitPage(Buffer.from(text)), undefined, text);
    }
  });
});
