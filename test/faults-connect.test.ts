import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, ROOT, runCli, waitFor } from './harness/cli.ts';

/**
 * A TCP server where MQTT clients connect and never get a CONNACK, except the first `sessions` connections: those get
 * a CONNACK and a SUBACK, and are closed when they publish (a broker lost mid-wait, after which the client reconnects).
 */
interface StuckBroker {
  port: number;
  connections: number;
  stop(): Promise<void>;
}

async function startStuckBroker(sessions = 0): Promise<StuckBroker> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (++state.connections <= sessions) answer(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    get connections() {
      return state.connections;
    },
    stop: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Just enough MQTT 3.1.1 for one session: CONNECT gets CONNACK, SUBSCRIBE gets SUBACK, PUBLISH ends the connection. */
function answer(socket: Socket): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      let length = 0;
      let offset = 1;
      for (let shift = 0; offset < buffered.length; shift += 7) {
        const byte = buffered[offset++]!;
        length += (byte & 0x7f) << shift;
        if (!(byte & 0x80)) break;
      }
      if (buffered.length < offset + length || buffered.length < 2) return;
      const type = buffered[0]! >> 4;
      const body = buffered.subarray(offset, offset + length);
      buffered = buffered.subarray(offset + length);
      if (type === 1) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      if (type === 8) socket.write(subAck(body));
      if (type === 3) socket.destroy();
    }
  });
}

/** QoS 0 granted for each topic filter of the SUBSCRIBE (the token's reply topic, then the bridges' health topics). */
function subAck(body: Buffer): Buffer {
  let filters = 0;
  for (let at = 2; at + 2 <= body.length; at += 2 + body.readUInt16BE(at) + 1) filters++;
  return Buffer.from([0x90, 2 + filters, body[0]!, body[1]!, ...Array<number>(filters).fill(0)]);
}

/**
 * Runs requestToken from the built core in a process of its own, with a timeout and a connect timeout of ten
 * minutes; SIGINT aborts its signal, as the CLI's handler does. The process must then exit by itself: anything mqtt.js
 * left running (its CONNACK timer) would keep it alive for those ten minutes, and the harness kills it after 30 s.
 */
function requestInChild(port: number) {
  const library = join(ROOT, 'dist', 'src', 'core', 'token', 'request.js');
  const script = `
    import { requestToken } from ${JSON.stringify(library)};
    const controller = new AbortController();
    process.on('SIGINT', () => controller.abort());
    const settings = { host: '127.0.0.1', port: ${port}, caFile: undefined, certFile: undefined, keyFile: undefined, topicPrefix: 'c8y' };
    try {
      await requestToken(settings, { timeoutMs: 600_000, connectTimeoutMs: 600_000, signal: controller.signal });
    } catch (error) {
      console.log(error.name + ': ' + error.message);
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, output: stdout() + stderr() });
    }),
  );
  return { child, exited };
}

describe('an interrupted connection to a broker that never accepts it', () => {
  let stuck: StuckBroker;
  before(async () => {
    stuck = await startStuckBroker();
  });
  after(() => stuck.stop());

  test('SIGINT while the first connection waits for its CONNACK: the request ends and nothing keeps the process', async () => {
    const before = stuck.connections;
    const { child, exited } = requestInChild(stuck.port);
    await waitFor(() => stuck.connections > before);
    child.kill('SIGINT');
    const result = await exited;
    assert.deepEqual(result, { code: 0, signal: null, output: 'C8yTokenError: aborted\n' });
  });

  test('doctor: SIGINT during the broker check exits 130, not with the check failing at its connect timeout', async () => {
    const before = stuck.connections;
    const run = runCli(['doctor', '--timeout', '10m'], {
      env: { TEDGE_MQTT_CLIENT_HOST: '127.0.0.1', TEDGE_MQTT_CLIENT_PORT: String(stuck.port) },
    });
    await waitFor(() => stuck.connections > before);
    run.child.kill('SIGINT');
    const result = await run;
    assert.equal(result.code, 130, result.stdout + result.stderr);
    assert.match(result.stdout, /broker +interrupted by SIGINT/);
  });
});

test('SIGINT while reconnecting to a broker lost mid-wait: the request ends and nothing keeps the process', async () => {
  const lost = await startStuckBroker(1);
  try {
    const { child, exited } = requestInChild(lost.port);
    await waitFor(() => lost.connections === 2);
    child.kill('SIGINT');
    const result = await exited;
    assert.deepEqual(result, { code: 0, signal: null, output: 'C8yTokenError: aborted\n' });
  } finally {
    await lost.stop();
  }
});
