import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Broker {
  kind: 'mosquitto' | 'embedded';
  /** The user the simulated bridge logs in as, when the broker wants a password. */
  login?: BrokerLogin;
  host: string;
  port: number;
  /** Stops the broker; start() brings it back on the same port (to test reconnects). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface BrokerLogin {
  username: string;
  password: string;
}

/**
 * mosquitto that admits only the users of `passwordFile` (made with mosquitto_passwd); `login` is one of them, for
 * the simulated bridge. Needs mosquitto: undefined without it (the caller skips), unless C8Y_TOKEN_TEST_BROKER says
 * mosquitto is mandatory.
 */
export async function startPasswordBroker(passwordFile: string, login: BrokerLogin): Promise<Broker | undefined> {
  const mosquitto = findMosquitto();
  if (!mosquitto) {
    if (process.env.C8Y_TOKEN_TEST_BROKER === 'mosquitto') throw new Error('no mosquitto executable was found');
    return undefined;
  }
  // Started as root, mosquitto would read the file as the user mosquitto, who may not pass the test's private directories.
  const user = `user ${userInfo().username}\n`;
  const broker = await startMosquitto(mosquitto, `${user}allow_anonymous false\npassword_file ${passwordFile}\n`);
  broker.login = login;
  return broker;
}

/**
 * A real MQTT broker on loopback: mosquitto when installed, else an embedded aedes broker so that
 * `npm test` passes on a bare machine. C8Y_TOKEN_TEST_BROKER=mosquitto makes mosquitto mandatory (CI);
 * C8Y_TOKEN_TEST_BROKER=embedded forces the fallback, to check it.
 */
export async function startBroker(): Promise<Broker> {
  const mosquitto = process.env.C8Y_TOKEN_TEST_BROKER === 'embedded' ? undefined : findMosquitto();
  if (mosquitto) return startMosquitto(mosquitto);
  if (process.env.C8Y_TOKEN_TEST_BROKER === 'mosquitto') {
    throw new Error('C8Y_TOKEN_TEST_BROKER=mosquitto but no mosquitto executable was found');
  }
  return startEmbedded();
}

/**
 * The mosquitto executable (or another of its package: mosquitto_passwd), as the tests find it (PATH, then the sbin
 * directories); undefined when not installed.
 */
export function findMosquitto(name = 'mosquitto'): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** mosquitto cannot listen on port 0, so ask the OS for a free port and retry if another process takes it first. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await sleep(20);
  }
  return false;
}

/** mosquitto on loopback, with `config` appended to its configuration (a bridge section, for one). */
export async function startMosquitto(executable: string, config = ''): Promise<Broker> {
  let child: ChildProcess | undefined;
  let port = 0;

  // mosquitto reads its configuration once, at start-up: the file is gone as soon as the broker listens.
  const launch = async (): Promise<boolean> => {
    const dir = await mkdtemp(join(tmpdir(), 'c8y-token-mosquitto-'));
    const file = join(dir, 'mosquitto.conf');
    await writeFile(
      file,
      `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n${config}`,
    );
    const proc = spawn(executable, ['-c', file], { stdio: 'ignore' });
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    const up = await waitForPort(port);
    await rm(dir, { recursive: true, force: true });
    if (up && !exited) {
      child = proc;
      return true;
    }
    proc.kill('SIGKILL');
    return false;
  };

  const broker: Broker = {
    kind: 'mosquitto',
    host: '127.0.0.1',
    get port() {
      return port;
    },
    async start() {
      if (!(await launch())) throw new Error(`mosquitto did not come back on port ${port}`);
    },
    async stop() {
      const proc = child;
      child = undefined;
      // Ctrl-C on `npm run sim` reaches mosquitto too: it may have died of that signal already.
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    },
  };

  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort();
    if (await launch()) return broker;
  }
  throw new Error('mosquitto did not start');
}

async function startEmbedded(): Promise<Broker> {
  const { Aedes } = await import('aedes');
  let aedes: InstanceType<typeof Aedes> | undefined;
  let server: Server | undefined;
  let port = 0;
  const sockets = new Set<Socket>();

  const broker: Broker = {
    kind: 'embedded',
    host: '127.0.0.1',
    get port() {
      return port;
    },
    async start() {
      const instance = await Aedes.createBroker();
      const listener = createServer((socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        instance.handle(socket);
      });
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(port, '127.0.0.1', resolve);
      });
      aedes = instance;
      server = listener;
      port = (listener.address() as AddressInfo).port;
    },
    async stop() {
      const [instance, listener] = [aedes, server];
      aedes = undefined;
      server = undefined;
      if (!instance || !listener) return;
      await new Promise<void>((resolve) => instance.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => listener.close(resolve));
    },
  };
  await broker.start();
  return broker;
}
