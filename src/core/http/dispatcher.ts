import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { buildConnector, Dispatcher } from 'undici';
import type { Undici } from './agent.ts';
import { proxyFor, type ProxyServer, type ProxySettings } from './proxy.ts';
import type { Trace } from './trace.ts';
import { type Trust, unknownIssuer } from './trust.ts';
import { openTunnel, proxyError } from './tunnel.ts';

export interface ConnectionSettings extends ProxySettings {
  connectTimeoutMs: number;
  /** Connections per origin (default 1): --paginate asks for two pages at once, over two. */
  connections?: number | undefined;
  trace?: Trace | undefined;
}

/**
 * The dispatcher for requests to the tenant: by default one request at a time per origin, each over the same
 * kept-alive connection, as curl does; each through the proxy curl would use for its URL. HTTPS goes through a CONNECT tunnel, so that the proxy sees the host and port
 * only; plain HTTP goes to the proxy as an absolute-form request, as curl sends it (headers and all: there is no
 * secret to keep from a proxy on a plain-text connection).
 */
export function tenantDispatcher(undici: Undici, trust: Trust, settings: ConnectionSettings): Dispatcher {
  /** The proxies plain-HTTP requests went to, by origin: a connection to one of them is to a proxy. */
  const forwarded = new Map<string, ProxyServer>();
  const open = opener(connectors(undici, trust, settings), trust, settings, forwarded);
  const agent = new undici.Agent({
    connections: settings.connections ?? 1,
    connect: (options, callback) => {
      open(options).then(
        (socket) => callback(null, socket),
        (error: Error) => callback(error, null),
      );
    },
  });
  return agent.compose(forwarding(settings, forwarded));
}

type Connect = (secureContext: SecureContext | undefined) => buildConnector.connector;

/** undici's connector for each set of trusted CAs, made once. */
function connectors(undici: Undici, trust: Trust, settings: ConnectionSettings): Connect {
  const made = new Map<SecureContext | undefined, buildConnector.connector>();
  return (secureContext) => {
    let connect = made.get(secureContext);
    if (!connect) {
      connect = undici.buildConnector({
        timeout: settings.connectTimeoutMs,
        rejectUnauthorized: trust.rejectUnauthorized,
        ...(secureContext && { secureContext }),
      });
      made.set(secureContext, connect);
    }
    return connect;
  };
}

/**
 * Opens a connection: to a forwarding proxy, or to the tenant (through a CONNECT tunnel when a proxy is in the way),
 * trusting Node's CAs first and, for a certificate from none of them, the system's.
 */
function opener(
  connectWith: Connect,
  trust: Trust,
  settings: ConnectionSettings,
  forwarded: Map<string, ProxyServer>,
): (options: buildConnector.Options) => Promise<Socket> {
  return async (options) => {
    const origin = new URL(`${options.protocol}//${options.host ?? options.hostname}`);
    const viaForward = forwarded.get(origin.origin);
    if (viaForward) {
      const context = viaForward.protocol === 'https:' ? await trust.proxy() : undefined;
      // Failures name the proxy, as curl's do (exit 5 for a name that does not resolve), not the tenant.
      return socketFrom(connectWith(context), options).catch((error: Error) => {
        throw proxyError(error, viaForward);
      });
    }
    if (options.protocol !== 'https:') return socketFrom(connectWith(undefined), options);
    const proxy = proxyFor(origin, settings);
    const attempt = async (context: SecureContext | undefined) => {
      if (!proxy) return socketFrom(connectWith(context), options);
      const port = Number(options.port || 443);
      settings.trace?.(`* CONNECT ${origin.hostname}:${port} through the proxy ${proxy.origin}`);
      const httpSocket = await openTunnel(proxy, origin.hostname.replace(/^\[(.*)\]$/, '$1'), port, {
        timeoutMs: settings.connectTimeoutMs,
        proxyContext: trust.proxy,
      });
      return socketFrom(connectWith(context), { ...options, httpSocket });
    };
    try {
      return await attempt(await trust.first());
    } catch (error) {
      if (!unknownIssuer(error)) throw error;
      const socket = await trust.viaSystem(origin, attempt, settings.trace);
      if (!socket) throw error;
      return socket;
    }
  };
}

/** Sends a plain-HTTP request to its proxy, if it has one, in absolute form with the Host the tenant expects. */
function forwarding(
  settings: ConnectionSettings,
  forwarded: Map<string, ProxyServer>,
): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) => {
    const target = new URL(options.origin!);
    const proxy = target.protocol === 'http:' ? proxyFor(target, settings) : undefined;
    if (!proxy) return dispatch(options, handler);
    const { origin } = proxy;
    forwarded.set(origin, proxy);
    settings.trace?.(`* ${options.method} ${target.origin}${options.path} through the proxy ${proxy.origin}`);
    const extra = ['Host', target.host, ...(proxy.authorization ? ['Proxy-Authorization', proxy.authorization] : [])];
    // send() gives the headers as a flat list of names and values.
    const headers = (options.headers ?? []) as string[];
    const hasHost = headers.some((name, n) => n % 2 === 0 && name.toLowerCase() === 'host');
    return dispatch(
      {
        ...options,
        origin,
        path: `${target.origin}${options.path}`,
        headers: [...headers, ...extra.slice(hasHost ? 2 : 0)],
      },
      handler,
    );
  };
}

function socketFrom(connect: buildConnector.connector, options: buildConnector.Options): Promise<Socket> {
  return new Promise((resolve, reject) => {
    connect(options, (error, socket) => (error ? reject(error) : resolve(socket!)));
  });
}
