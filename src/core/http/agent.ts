import type { Agent, buildConnector } from 'undici';

/** The parts of undici that connect to the tenant. */
export interface Undici {
  Agent: typeof Agent;
  buildConnector: typeof buildConnector;
}

/**
 * undici's Agent, loaded on first use without the rest of undici: undici's index also loads fetch, WebSocket,
 * EventSource, the HTTP cache and the mock agents, which took longer to load than a request to the tenant takes.
 * The request() method comes from undici's api modules, which its index assigns to every Dispatcher; this does the
 * same (once or twice, it is the same assignment). Files under lib/ are undici's internals, which any release may
 * move: package.json pins undici to an exact version, and test/deep-imports.test.ts fails when these files no longer
 * hold what is taken from them.
 */
export async function loadAgent(): Promise<Undici> {
  const [agent, dispatcher, api, connector] = await Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/dispatcher/dispatcher.js'),
    import('undici/lib/api/index.js'),
    import('undici/lib/core/connect.js'),
  ]);
  Object.assign(dispatcher.default.prototype, api.default);
  return { Agent: agent.default, buildConnector: connector.default };
}

/**
 * undici parses HTTP in WebAssembly. On V8 10 and 11 (Node 18 and 20) the first request to the tenant already makes
 * V8 optimise the parser's main function with TurboFan on a background thread, and the process cannot exit before
 * that compilation ends, which takes longer than the request. --liftoff-only stops it. No supported way to pass the
 * flag is as fast: NODE_OPTIONS refuses V8 flags, a flag on node's command line (a shebang, a re-exec) applies from
 * start-up, which makes Node compile every built-in module it loads from source instead of from its code cache, and
 * a shebang does not apply to `node bin/c8y-token`; undici has no parser but WebAssembly's. So the flag is set here,
 * once undici and the built-in modules it needs are loaded. Node documents flag changes after start-up as
 * unpredictable: this one is made only on the two V8s where the suite checks what it does. From V8 12 (Node 22) the first requests no longer start
 * TurboFan and the flag is left off. test/wasm-tier-up.test.ts asks V8 on each Node version; docs/performance.md
 * has the figures. Called by the CLI's curl and doctor commands only: the library leaves V8 alone.
 */
export async function skipWasmTierUp(): Promise<void> {
  if (Number.parseInt(process.versions.v8, 10) >= 12) return;
  await loadAgent();
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
}
