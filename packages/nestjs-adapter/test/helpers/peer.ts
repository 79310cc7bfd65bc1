/**
 * A real `ws` client for the e2e tests: messages are queued, read in order with `next()`, and
 * refusals report the HTTP status (and reason header) the upgrade got.
 */
import WebSocket from 'ws';

/** One received message. */
export interface Received {
  data: Buffer;
  isBinary: boolean;
}

/** An open client. */
export class Peer {
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The 101's headers, as `name: value` lines in the order they came (handshake headers left out). */
  upgradeHeaders: string[] = [];
  private readonly queue: Received[] = [];
  private readonly waiting: Array<(message: Received) => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const message = { data: data as Buffer, isBinary };
      const waiter = this.waiting.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connect; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, options);
      const peer = new Peer(ws);
      ws.once('upgrade', (response) => {
        for (let i = 0; i < response.rawHeaders.length; i += 2) {
          const name = response.rawHeaders[i];
          if (!/^(upgrade|connection|sec-websocket-.*)$/i.test(name)) peer.upgradeHeaders.push(`${name}: ${response.rawHeaders[i + 1]}`);
        }
      });
      ws.once('open', () => resolve(peer));
      ws.once('unexpected-response', (_request, response) => {
        reject(new Error(`unexpected HTTP ${response.statusCode}`));
        response.resume();
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  /** The next message, in arrival order. */
  next(): Promise<Received> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The next message parsed as JSON (it must be a text frame). */
  async json(): Promise<unknown> {
    const message = await this.next();
    if (message.isBinary) throw new Error(`expected a text frame, got binary ${message.data.toString('hex')}`);
    return JSON.parse(message.data.toString());
  }

  /** Send `{ event, data }` as JSON text. */
  emit(event: string, data?: unknown): void {
    this.ws.send(JSON.stringify({ event, data }));
  }

  /** Close the socket at once (test cleanup). */
  terminate(): void {
    this.ws.terminate();
  }
}

/** What a refused upgrade got. */
export interface Refusal {
  status: number;
  reason: string | undefined;
}

/** Resolves with the HTTP answer to an upgrade that is refused; rejects when it is accepted. */
export function refusal(url: string, headers: Record<string, string> = {}): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_request, response) => {
      const reason = response.headers['x-websocket-reject-reason'];
      resolve({ status: response.statusCode ?? 0, reason: Array.isArray(reason) ? reason[0] : reason });
      response.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('error', reject);
  });
}
