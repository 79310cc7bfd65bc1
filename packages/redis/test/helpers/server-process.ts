/**
 * The parent side of the multi-process tests: fork a server process (test/fixtures/server-process.js),
 * talk to it over IPC, record its `ready` and `error` reports; and `ws` clients that record every
 * message they receive.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';

const FIXTURE = join(__dirname, '..', 'fixtures', 'server-process.js');
const BUILT = [join(__dirname, '..', '..', '..', 'core', 'dist', 'index.js'), join(__dirname, '..', '..', 'dist', 'index.js')];

/** Resolve once `predicate` holds (checked every 10 ms); reject with `what` after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What a server process reported. */
export interface ProcessReport {
  type: string;
  [key: string]: unknown;
}

/** A forked server process: core's WebSocketServer with a RedisPubSub driver. */
export class ServerProcess {
  readonly child: ChildProcess;
  /** Every `ready` and `error` report, in order. */
  readonly reports: ProcessReport[] = [];
  port = 0;
  pid = 0;
  private nextId = 0;
  private readonly replies = new Map<number, (reply: ProcessReport) => void>();

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (message: ProcessReport) => {
      if (message.type === 'reply') {
        this.replies.get(message.id as number)?.(message);
        this.replies.delete(message.id as number);
      } else if (message.type === 'listening') {
        this.port = message.port as number;
        this.pid = message.pid as number;
      } else {
        this.reports.push(message);
      }
    });
  }

  /** Fork a server process using the Redis on `redisPort`; resolves once it listens. */
  static async start(redisPort: number, instanceId?: string): Promise<ServerProcess> {
    for (const file of BUILT) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does).`);
    }
    const child = fork(FIXTURE, [], {
      env: { ...process.env, REDIS_PORT: String(redisPort), INSTANCE_ID: instanceId ?? '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = new ServerProcess(child);
    await until(() => server.port !== 0, 'the server process to listen');
    return server;
  }

  /** `ws://127.0.0.1:<port>/?topics=...` */
  url(topics: string[]): string {
    return `ws://127.0.0.1:${this.port}/?topics=${topics.join(',')}`;
  }

  /** Send a command and resolve with the reply. */
  request(command: Record<string, unknown>): Promise<ProcessReport> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.child.send({ ...command, id });
    });
  }

  /** Number of `ready` reports so far. */
  get readyCount(): number {
    return this.reports.filter((r) => r.type === 'ready').length;
  }

  /** The `error` reports with `code`. */
  errors(code?: string): ProcessReport[] {
    return this.reports.filter((r) => r.type === 'error' && (code === undefined || r.code === code));
  }

  /** Ask the process to close everything and wait for it to exit (killed after 5 s). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    this.child.send({ cmd: 'exit', id: 0 });
    await exited;
    clearTimeout(timer);
  }
}

/** A message a {@link Client} received. */
export interface Received {
  data: Buffer;
  isBinary: boolean;
}

/** A `ws` client that records its messages (the server's `{ subscribed }` greeting aside). */
export class Client {
  readonly ws: WebSocket;
  readonly received: Received[] = [];
  /** The topics the server says this client is subscribed to (its greeting). */
  subscribed: string[] | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (this.subscribed === null) this.subscribed = (JSON.parse(bytes.toString()) as { subscribed: string[] }).subscribed;
      else this.received.push({ data: bytes, isBinary });
    });
    ws.on('error', () => undefined);
  }

  /** Connect to `url` and resolve once the server confirmed the subscriptions. */
  static async open(url: string): Promise<Client> {
    const client = new Client(new WebSocket(url));
    await until(() => client.subscribed !== null, `the greeting of ${url}`);
    return client;
  }

  /** The text messages received. */
  get texts(): string[] {
    return this.received.map((message) => message.data.toString());
  }

  /** Resolve once a text message `text` has arrived. */
  waitFor(text: string, timeoutMs = 10000): Promise<void> {
    return until(() => this.texts.includes(text), `"${text}" to arrive`, timeoutMs);
  }

  /** Terminate the connection and wait for its close. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.terminate();
    await closed;
  }
}
