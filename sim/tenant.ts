import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export interface RecordedRequest {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (request: RecordedRequest, response: ServerResponse, tenant: Tenant) => void | Promise<void>;

/**
 * A fake Cumulocity tenant on loopback: real HTTP (or HTTPS), recording every request. It serves /user/currentUser,
 * a paginated /inventory/managedObjects, multipart uploads to /inventory/binaries, /status/<code> (Cumulocity error
 * bodies), /redirect?to=<url>&status=<code>, /size/<bytes> and /never (no answer); tests add their own routes.
 */
export interface Tenant {
  /** The origin, e.g. http://127.0.0.1:43210. */
  url: string;
  requests: RecordedRequest[];
  /** TCP connections accepted since the last reset (keep-alive reuses one for many requests). */
  connections: number;
  /** Decides whether an Authorization header is accepted (else 401); by default any bearer token is. */
  authorize: (authorization: string | undefined) => boolean;
  /** How many managed objects the inventory holds. */
  managedObjects: number;
  /** Origin written into `next` links (a tenant behind a proxy may announce another one). */
  linkOrigin: string;
  /** How far the tenant's clock is ahead of this machine's (negative: behind), in ms: shifts its Date header. */
  clockOffsetMs: number;
  /** How long the tenant takes before it answers each request, in ms: a real link's round trip. */
  latencyMs: number;
  /** Requests received and not yet answered; the most there were at once since the last reset. */
  inFlight: number;
  maxInFlight: number;
  route(method: string, path: string, handler: Handler): void;
  /** Forgets recorded requests and added routes, and restores the defaults. */
  reset(): void;
  stop(): Promise<void>;
}

export interface TenantOptions {
  tls?: { key: Buffer; cert: Buffer };
}

const bearer = (authorization: string | undefined) => /^Bearer \S+$/.test(authorization ?? '');

export async function startTenant(options: TenantOptions = {}): Promise<Tenant> {
  const routes = new Map<string, Handler>();
  const sockets = new Set<Socket>();
  const server: Server = options.tls ? createHttpsServer(options.tls) : createHttpServer();

  const tenant: Tenant = {
    url: '',
    requests: [],
    connections: 0,
    authorize: bearer,
    managedObjects: 12,
    linkOrigin: '',
    clockOffsetMs: 0,
    latencyMs: 0,
    inFlight: 0,
    maxInFlight: 0,
    route: (method, path, handler) => routes.set(`${method} ${path}`, handler),
    reset() {
      tenant.requests.length = 0;
      tenant.connections = 0;
      tenant.authorize = bearer;
      tenant.managedObjects = 12;
      tenant.linkOrigin = tenant.url;
      tenant.clockOffsetMs = 0;
      tenant.latencyMs = 0;
      tenant.maxInFlight = tenant.inFlight;
      routes.clear();
    },
    async stop() {
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  server.on('connection', (socket: Socket) => {
    tenant.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (incoming: IncomingMessage, response: ServerResponse) => {
    tenant.maxInFlight = Math.max(tenant.maxInFlight, ++tenant.inFlight);
    response.once('close', () => tenant.inFlight--);
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', async () => {
      if (tenant.latencyMs > 0) await sleep(tenant.latencyMs);
      const request: RecordedRequest = {
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        headers: incoming.headers,
        body: Buffer.concat(chunks),
      };
      tenant.requests.push(request);
      response.sendDate = false;
      response.setHeader('date', new Date(Date.now() + tenant.clockOffsetMs).toUTCString());
      Promise.resolve(handle(tenant, routes, request, response)).catch((error: Error) => {
        if (!response.headersSent) sendJson(response, 500, { error: 'test/Failure', message: error.message });
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tenant.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tenant.linkOrigin = tenant.url;
  return tenant;
}

function handle(tenant: Tenant, routes: Map<string, Handler>, request: RecordedRequest, response: ServerResponse) {
  const url = new URL(request.url, tenant.url);
  const custom = routes.get(`${request.method} ${url.pathname}`);
  if (custom) return custom(request, response, tenant);
  if (!tenant.authorize(request.headers.authorization)) {
    return sendJson(response, 401, {
      error: 'security/Unauthorized',
      message: 'Invalid credentials! : Bad credentials',
    });
  }
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) {
    const code = Number(status[1]);
    return sendJson(response, code, {
      error: `test/Status ${code}`,
      message: `answered with ${code} on request`,
      info: 'https://cumulocity.com/guides',
    });
  }
  const size = /^\/size\/(\d+)$/.exec(url.pathname);
  if (size) {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size[1] });
    return response.end(Buffer.alloc(Number(size[1]), 'x'));
  }
  switch (`${request.method} ${url.pathname}`) {
    case 'GET /user/currentUser':
    case 'HEAD /user/currentUser':
      return sendJson(response, 200, {
        id: 'device_rpi4-d83add90fe56',
        userName: 'device_rpi4-d83add90fe56',
        self: `${tenant.url}/user/currentUser`,
      });
    case 'GET /inventory/managedObjects':
      return managedObjectsPage(tenant, url, response);
    case 'POST /inventory/binaries':
      return binary(request, response);
    case 'GET /never':
      return; // never answered: the client's timeout has to end it
    default:
      break;
  }
  if (url.pathname === '/redirect') {
    response.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/' });
    return response.end();
  }
  return sendJson(response, 404, { error: 'general/Not Found', message: `nothing at ${url.pathname}` });
}

function managedObjectsPage(tenant: Tenant, url: URL, response: ServerResponse) {
  const pageSize = Number(url.searchParams.get('pageSize') ?? 5);
  const currentPage = Number(url.searchParams.get('currentPage') ?? 1);
  const first = (currentPage - 1) * pageSize;
  const managedObjects = [];
  for (let n = first + 1; n <= Math.min(first + pageSize, tenant.managedObjects); n++) {
    managedObjects.push({ id: String(n), name: `device ${n}`, type: 'c8y_Device', c8y_IsDevice: {} });
  }
  const link = (page: number) => {
    const params = new URLSearchParams(url.searchParams);
    params.set('currentPage', String(page));
    return `${tenant.linkOrigin}${url.pathname}?${params}`;
  };
  sendJson(
    response,
    200,
    {
      self: link(currentPage),
      managedObjects,
      statistics: { pageSize, currentPage },
      next: link(currentPage + 1),
      ...(currentPage > 1 && { prev: link(currentPage - 1) }),
    },
    'application/vnd.com.nsn.cumulocity.managedobjectcollection+json;charset=UTF-8;ver=0.9',
  );
}

/** /inventory/binaries takes an `object` part (JSON: name, type) and a `file` part. */
async function binary(request: RecordedRequest, response: ServerResponse) {
  const form = await new Response(request.body, {
    headers: { 'content-type': request.headers['content-type'] ?? '' },
  }).formData();
  const object = form.get('object');
  const file = form.get('file');
  if (typeof object !== 'string' || file === null || typeof file === 'string') {
    return sendJson(response, 400, { error: 'binaries/Bad Request', message: 'expected the parts object and file' });
  }
  const meta = JSON.parse(object) as { name: string; type: string };
  sendJson(response, 201, {
    id: '4711',
    name: meta.name,
    type: meta.type,
    length: file.size,
    contentType: file.type,
    filename: file.name,
  });
}

/** Makes the tenant refuse the first token it sees (as after a revocation) and take any other. */
export function refuseFirstToken(tenant: Tenant): void {
  let refused: string | undefined;
  tenant.authorize = (authorization) => {
    refused ??= authorization;
    return authorization !== refused;
  };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl; the certificate is its own CA. */
export async function makeCertificate(): Promise<{ key: Buffer; cert: Buffer; certFile: string; keyFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'c8y-token-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-subj',
    '/CN=c8y-token test tenant',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { key: await readFile(keyFile), cert: await readFile(certFile), certFile, keyFile };
}
