import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { C8yTokenError, OPTION_NAMES, render, wording } from '../src/core/errors.ts';
import { statusError, transferError } from '../src/core/http/failures.ts';
import { describeFailure, SETTING_FLAGS } from '../src/cli/reporting.ts';

const TENANT = new URL('https://t1.example.com/inventory/managedObjects');
const timedOut = () =>
  transferError(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), TENANT);

describe('an error names settings as its reader knows them', () => {
  test('a Node program reads option names, the command line flags', () => {
    const error = timedOut();
    assert.equal(error.hint, 'the tenant or the network is slow: try a longer tenantConnectTimeoutMs');
    assert.equal(
      describeFailure(error).hint,
      'the tenant or the network is slow: try a longer --connect-timeout or --max-time, or --retry',
    );
    assert.equal(describeFailure(error).message, error.message);
  });

  test('a part naming a setting only the command line has is left out of the library text', () => {
    const error = statusError(503, 'GET', TENANT, '');
    assert.equal(error.hint, 'the tenant has a problem: try again later');
    assert.equal(describeFailure(error).hint, 'the tenant has a problem: try again later, or with --retry N');
  });

  test('values put in are taken as they are, braces and brackets included; nested wording is rendered', () => {
    const path = '/x/{url}/[{retry}]';
    const origin = wording`{url}`;
    const error = new C8yTokenError('usage', wording`${origin}: '${path}' [{maxTime} ]refused`);
    assert.equal(error.message, `url: '${path}' refused`);
    assert.equal(describeFailure(error).message, `--url: '${path}' --max-time refused`);
  });

  test('text without settings, and brackets or braces naming none, are left alone', () => {
    assert.equal(render(wording`[a] {b} [{c}]`, OPTION_NAMES), '[a] {b} [{c}]');
    assert.equal(render('plain {url}', SETTING_FLAGS), 'plain {url}');
    const plain = new C8yTokenError('other', 'no settings', { hint: 'none here' });
    assert.deepEqual(describeFailure(plain), { message: 'no settings', hint: 'none here' });
  });
});
