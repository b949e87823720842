import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from './harness/cli.ts';
import { useCurlFixture } from './harness/fixture.ts';

/**
 * `curl` and `doctor` run V8 with --liftoff-only on Node 18 and 20 only (src/core/http/agent.ts): there the exit
 * waits for V8 to optimise undici's WebAssembly HTTP parser with TurboFan, and the first request to the tenant is
 * enough to start that. V8's own trace says whether TurboFan compiled any WebAssembly. On Node 22 and later the
 * first request no longer starts it, so there the test lowers V8's tiering budget until it would: TurboFan then
 * shows that the CLI left the flag off.
 */
const nodeMajor = Number.parseInt(process.versions.node, 10);
const flagWanted = nodeMajor < 22;
const nodeOptions = ['--trace-wasm-compilation-times', ...(flagWanted ? [] : ['--wasm-tiering-budget=1'])];

const f = useCurlFixture();

describe(`WebAssembly tier-up on Node ${nodeMajor}: --liftoff-only ${flagWanted ? 'set' : 'left off'}`, () => {
  for (const args of [['curl', '/user/currentUser'], ['doctor']]) {
    test(`c8y-token ${args.join(' ')}`, async () => {
      const result = await runCli(args, { env: f.env, nodeOptions });
      assert.equal(result.code, 0, result.stderr);
      // V8 prints its trace on stdout, among the command's output.
      const turbofan = /Compiled function \S+ using TurboFan/.test(result.stdout);
      assert.equal(turbofan, !flagWanted, result.stdout);
    });
  }
});
