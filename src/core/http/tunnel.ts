import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { C8yTokenError, wording } from '../errors.ts';
import { formatDuration } from '../duration.ts';
import { transferError } from './failures.ts';
import type { ProxyServer } from './proxy.ts';

/** A proxy answers CONNECT with one short head; anything longer is not a proxy speaking HTTP. */
const MAX_HEAD_BYTES = 16 * 1024;
const RESOLVE = /^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|EAI_NODATA)$/;
const CONNECT = /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENETDOWN|EADDRNOTAVAIL)$/;

export interface TunnelOptions {
  timeoutMs: number;
  /** For an https:// proxy: the CAs its certificate is checked against. */
  proxyContext?: (() => Promise<SecureContext>) | undefined;
}

/**
 * A TCP connection to `host:port` through the proxy, opened with CONNECT: what then passes through it (the TLS
 * handshake with the tenant, and inside it the token) is opaque to the proxy. Rejects with curl's exit code for the
 * failure: 5 (the proxy's name does not resolve), 7 (no connection to it), 56 (it refused the tunnel), 28.
 */
export async function openTunnel(
  proxy: ProxyServer,
  host: string,
  port: number,
  options: TunnelOptions,
): Promise<Socket> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const socket = await connectToProxy(proxy, options);
  return new Promise<Socket>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => {
      const after = formatDuration(options.timeoutMs);
      finish(
        new C8yTokenError(
          'timeout',
          `the proxy ${proxy.origin} did not open the tunnel to ${authority} within ${after}`,
          {
            hint: wording`the proxy or the network is slow: try a longer {connectTimeout}`,
          },
        ),
      );
    }, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) finish(refused(proxy, authority, 'an answer that is not HTTP'));
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'))?.[1];
      if (!status?.startsWith('2')) {
        finish(refused(proxy, authority, status ? `HTTP ${status}` : 'an answer that is not HTTP'));
        return;
      }
      const rest = head.subarray(end + 4);
      finish();
      if (rest.length > 0) socket.unshift(rest);
    };
    const onError = (error: Error) => finish(proxyError(error, proxy));
    const onClose = () => finish(refused(proxy, authority, 'a closed connection'));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData).off('error', onError).off('close', onClose);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    socket.on('data', onData).on('error', onError).on('close', onClose);
    const credentials = proxy.authorization ? `Proxy-Authorization: ${proxy.authorization}\r\n` : '';
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${credentials}\r\n`);
  });
}

async function connectToProxy(proxy: ProxyServer, options: TunnelOptions): Promise<Socket> {
  const secure = proxy.protocol === 'https:';
  const tls = secure ? await import('node:tls') : undefined;
  const secureContext = secure ? await options.proxyContext?.() : undefined;
  return new Promise<Socket>((resolve, reject) => {
    const socket = tls
      ? tls.connect({
          host: proxy.hostname,
          port: proxy.port,
          servername: isIP(proxy.hostname) ? undefined : proxy.hostname,
          secureContext,
          ALPNProtocols: ['http/1.1'],
        })
      : tcpConnect(proxy.port, proxy.hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new C8yTokenError('timeout', `timed out connecting to the proxy ${proxy.origin}`, {
          hint: wording`is the proxy up? try a longer {connectTimeout}`,
        }),
      );
    }, options.timeoutMs);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(proxyError(error, proxy));
    };
    socket.once('error', onError);
  });
}

function refused(proxy: ProxyServer, authority: string, answer: string): C8yTokenError {
  return new C8yTokenError(
    'receive',
    `the proxy ${proxy.origin} refused the tunnel to ${authority}: CONNECT got ${answer}`,
    {
      hint: 'the proxy does not allow this host or port, or wants credentials (http://user:password@proxy:port)',
    },
  );
}

/** What went wrong on the way to the proxy, in curl's exit codes: its name, connecting to it, or else. */
export function proxyError(error: Error, proxy: ProxyServer): C8yTokenError {
  if (error instanceof C8yTokenError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const check = 'check the proxy setting (https_proxy, http_proxy, all_proxy) and that the proxy runs';
  if (RESOLVE.test(code)) {
    return new C8yTokenError('proxyResolve', `could not resolve the proxy host ${proxy.hostname}`, {
      hint: check,
      cause: error,
    });
  }
  if (CONNECT.test(code)) {
    return new C8yTokenError('connect', `could not connect to the proxy ${proxy.origin} (${code})`, {
      hint: check,
      cause: error,
    });
  }
  return transferError(error, new URL(proxy.origin));
}
