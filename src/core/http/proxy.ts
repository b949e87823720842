import { BlockList, isIP } from 'node:net';
import { C8yTokenError } from '../errors.ts';

/** Which proxy to use, as curl decides it. */
export interface ProxySettings {
  /** The proxy for every URL, instead of the environment's; '' for none. */
  proxy?: string | undefined;
  /** The hosts reached without a proxy, instead of $no_proxy / $NO_PROXY; '' for none. */
  noProxy?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface ProxyServer {
  /** http: or https: */
  protocol: string;
  hostname: string;
  port: number;
  /** From credentials in the proxy URL: the Proxy-Authorization header's value. */
  authorization: string | undefined;
  /** The proxy URL without its credentials: for messages, and as the origin of requests forwarded to it. */
  origin: string;
}

/**
 * The proxy curl would use for `target`: none when a no_proxy entry matches the host; else the given proxy; else
 * <scheme>_proxy (for https also HTTPS_PROXY; curl reads no HTTP_PROXY, which a CGI request's `Proxy:` header could
 * set), then all_proxy / ALL_PROXY. An empty variable counts as unset, as in curl.
 */
export function proxyFor(target: URL, settings: ProxySettings): ProxyServer | undefined {
  const env = settings.env ?? process.env;
  const noProxy = settings.noProxy ?? (set(env.no_proxy) || set(env.NO_PROXY));
  if (noProxy && bypassesProxy(target.hostname, noProxy)) return undefined;
  const scheme = target.protocol.slice(0, -1);
  const value =
    settings.proxy ??
    (set(env[`${scheme}_proxy`]) ||
      (scheme === 'http' ? undefined : set(env[`${scheme.toUpperCase()}_PROXY`])) ||
      set(env.all_proxy) ||
      set(env.ALL_PROXY));
  return value ? parseProxy(value) : undefined;
}

const set = (value: string | undefined) => (value === '' ? undefined : value);

/**
 * curl's no_proxy rules: `*` alone matches every host; otherwise a comma- or space-separated list where a name
 * matches the host itself and every host in its domain (a leading or trailing dot is ignored: `.example.com` and
 * `example.com` both match www.example.com, not notexample.com), and an IP address matches that address, or with
 * /bits the network (CIDR). Loopback hosts have no exception: curl sends them through the proxy too.
 */
export function bypassesProxy(hostname: string, noProxy: string): boolean {
  if (noProxy === '*') return true;
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const family = isIP(host);
  const entries = noProxy.split(/[\s,]+/).filter(Boolean);
  if (family !== 0) return entries.some((entry) => inNetwork(host, family === 4 ? 'ipv4' : 'ipv6', entry));
  const name = host.replace(/\.$/, '');
  return entries.some((entry) => {
    const domain = entry.toLowerCase().replace(/\.$/, '').replace(/^\./, '');
    return domain !== '' && (name === domain || name.endsWith(`.${domain}`));
  });
}

function inNetwork(address: string, family: 'ipv4' | 'ipv6', entry: string): boolean {
  const [network = '', bits] = entry.split('/');
  if (isIP(network) !== (family === 'ipv4' ? 4 : 6)) return false;
  const list = new BlockList();
  try {
    if (bits === undefined) list.addAddress(network, family);
    else list.addSubnet(network, Number(bits), family);
  } catch {
    return false;
  }
  return list.check(address, family);
}

/** curl's defaults: a proxy without a scheme is an HTTP proxy, on port 1080 unless it names one (443 for https). */
export function parseProxy(value: string): ProxyServer {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new C8yTokenError('proxyResolve', `the proxy '${redact(value)}' is not a URL`, {
      hint: 'a proxy is http://host:port (or https://); check https_proxy, http_proxy and all_proxy',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new C8yTokenError('connect', `unsupported proxy scheme ${url.protocol} in '${redact(value)}'`, {
      hint: 'c8y-token speaks to http:// and https:// proxies only (curl also to socks)',
    });
  }
  const explicitPort = /^[^:]+:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)/.exec(text)?.[1];
  const port = explicitPort === undefined ? (url.protocol === 'https:' ? 443 : 1080) : Number(explicitPort);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    authorization: user || password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined,
    origin: new URL(`${url.protocol}//${url.host.replace(/:\d+$/, '')}:${port}`).origin,
  };
}

/** A proxy URL's password never reaches a message. */
function redact(value: string): string {
  return value.replace(/\/\/([^@/:]*):[^@/]*@/, '//$1:***@');
}
