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
 * undici parses HTTP in WebAssembly. V8 11 (Node 20) compiles the hot parser functions once more, optimised, on
 * background threads, and Node waits for those compilations before the process can exit: ~130 ms, more than a
 * request to the tenant takes. --liftoff-only stops that. Later V8s do not make the exit wait: the flag is left off
 * there (set as here, it made `curl` neither faster nor slower on Node 22 and 24). It is set once undici and the
 * Node modules it needs are loaded, before the parser is compiled (at the first connection): after a V8 flag
 * changes, Node compiles each built-in module it loads from source instead of from its code cache (~16 ms for http,
 * http2, tls, crypto and zlib). Called by the CLI's curl and doctor commands only: the library leaves V8 alone.
 */
export async function skipWasmTierUp(): Promise<void> {
  if (Number.parseInt(process.versions.v8, 10) >= 12) return;
  await loadAgent();
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
}
