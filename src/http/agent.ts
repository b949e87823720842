import type { Agent } from 'undici';

/**
 * undici's Agent, loaded on first use without the rest of undici: undici's index also loads fetch, WebSocket,
 * EventSource, the HTTP cache and the mock agents, which took longer to load than a request to the tenant takes.
 * The request() method comes from undici's api modules, which its index assigns to every Dispatcher; this does the
 * same (once or twice, it is the same assignment).
 */
export async function loadAgent(): Promise<typeof Agent> {
  const [agent, dispatcher, api] = await Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/dispatcher/dispatcher.js'),
    import('undici/lib/api/index.js'),
  ]);
  Object.assign(dispatcher.default.prototype, api.default);
  return agent.default;
}
