import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimsOf, signToken } from '../sim/bridge.ts';
import { decodeJwtPayload } from '../src/core/token/jwt.ts';

const encode = (text: string) => Buffer.from(text).toString('base64url');

describe('decodeJwtPayload', () => {
  test('returns the claims of a signed token', async () => {
    const token = await signToken({ claims: { ten: 't1', exp: 4102444800 } });
    assert.deepEqual(decodeJwtPayload(token), claimsOf(token));
  });

  const refused: [string, string, RegExp][] = [
    ['no dots', 'not-a-jwt', /it has 1 part\(s\), a JWT has 3/],
    ['two parts', 'aaa.bbb', /it has 2 part\(s\)/],
    ['five parts (JWE)', 'a.b.c.d.e', /it has 5 part\(s\)/],
    ['an empty payload', 'e30..sig', /not base64url/],
    ['a payload with other characters', 'e30.b!.sig', /not base64url/],
    ['a payload that is not JSON', `e30.${encode('{nope')}.sig`, /not JSON/],
    ['a JSON array', `e30.${encode('[1,2]')}.sig`, /not a JSON object/],
    ['a JSON string', `e30.${encode('"a string"')}.sig`, /not a JSON object/],
    ['JSON null', `e30.${encode('null')}.sig`, /not a JSON object/],
  ];
  for (const [what, token, reason] of refused) {
    test(`refuses ${what}`, () => assert.throws(() => decodeJwtPayload(token), reason));
  }
});
