import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** What the proxy was asked: `CONNECT host:port` for a tunnel, or `GET http://host/path` for a plain request. */
export interface ProxiedRequest {
  method: string;
  target: string;
  headers: IncomingHttpHeaders;
}

/**
 * An HTTP proxy on loopback as corporate networks have them: CONNECT opens a tunnel to the host and port asked for,
 * a request in absolute form (http://host/path) is forwarded. It records what it was asked; with `refuse` set it
 * answers every request with that status instead (a proxy whose policy forbids the host).
 */
export interface TestProxy {
  /** e.g. http://127.0.0.1:43210 */
  url: string;
  requests: ProxiedRequest[];
  refuse: number | undefined;
  stop(): Promise<void>;
}

export async function startProxy(): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    proxy.requests.push({ method: request.method!, target: request.url!, headers: request.headers });
    if (proxy.refuse !== undefined) {
      response.writeHead(proxy.refuse, { 'Content-Length': '0' }).end();
      return;
    }
    const forwarded = httpRequest(request.url!, { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(response);
    });
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (request, client: Socket, head: Buffer) => {
    proxy.requests.push({ method: 'CONNECT', target: request.url!, headers: request.headers });
    if (proxy.refuse !== undefined) {
      client.end(`HTTP/1.1 ${proxy.refuse} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const { hostname, port } = new URL(`http://${request.url}`);
    const upstream = connect(Number(port), hostname.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [],
    refuse: undefined,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return proxy;
}
