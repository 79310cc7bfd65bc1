/**
 * A real `redis-server` for the tests: started on a free loopback port with persistence off,
 * ready once it answers PING, and killable and restartable on the same port (to test outages).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released before returning). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Resolve once something on 127.0.0.1:`port` answers `PING` with `+PONG`; reject after `timeoutMs`. */
export async function waitForPong(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let reply = '';
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        reply += chunk.toString('latin1');
        if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
      });
    });
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A redis-server child process on a fixed port. */
export class RedisServer {
  /** The port it listens on (kept across restarts). */
  readonly port: number;
  private child: ChildProcess | null = null;
  private readonly dir: string;
  private output = '';

  private constructor(port: number) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), 'wsuite-redis-'));
  }

  /** Start a redis-server on a free loopback port and wait for its PONG. */
  static async start(): Promise<RedisServer> {
    if (spawnSync('redis-server', ['--version']).error) {
      throw new Error('redis-server is not installed (Debian: apt-get install -y redis-server); the Redis integration tests need it.');
    }
    const server = new RedisServer(await freePort());
    await server.launch();
    return server;
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.child !== null;
  }

  /** Kill the process at once (SIGKILL, as a crash) and wait until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Start it again on the same port (empty: nothing is persisted) and wait for its PONG. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Kill it and remove its working directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000)));
    child.stderr?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000)));
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    try {
      await waitForPong(this.port);
    } catch (error) {
      (error as Error).message += `\nredis-server output:\n${this.output}`;
      throw error;
    }
  }
}
