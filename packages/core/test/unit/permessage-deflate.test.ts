import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import { PerMessageDeflate, InflatedTooLargeError, DEFLATE_DEFAULTS, zlibLimiterFor } from '../../src/permessage-deflate';
import type { DeflateParams } from '../../src/protocol/deflate-negotiation';

const params = (overrides: Partial<DeflateParams> = {}): DeflateParams => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  ...overrides,
});

const compress = (pmd: PerMessageDeflate, data: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) => pmd.compress(data, (error, result) => (error ? reject(error) : resolve(result as Buffer))));
const decompress = (pmd: PerMessageDeflate, data: Buffer, max = 1 << 30): Promise<Buffer> =>
  new Promise((resolve, reject) => pmd.decompress(data, max, (error, result) => (error ? reject(error) : resolve(result as Buffer))));

describe('PerMessageDeflate', () => {
  it('round-trips messages between a server and a client context, without the sync-flush trailer', async () => {
    const server = new PerMessageDeflate(params(), true, DEFLATE_DEFAULTS);
    const client = new PerMessageDeflate(params(), false, DEFLATE_DEFAULTS);
    for (const text of ['hello hello hello hello', 'x'.repeat(100000), '{"a":1,"b":[1,2,3]}'.repeat(50)]) {
      const compressed = await compress(server, Buffer.from(text));
      expect(compressed.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(false);
      expect((await decompress(client, compressed)).toString()).toBe(text);
    }
    server.close();
    client.close();
  });

  it('keeps the context between messages (takeover): the second copy of a message is smaller', async () => {
    const server = new PerMessageDeflate(params(), true, DEFLATE_DEFAULTS);
    const text = Buffer.from('The quick brown fox jumps over the lazy dog, again and again. '.repeat(4));
    const first = await compress(server, text);
    const second = await compress(server, text);
    expect(second.length).toBeLessThan(first.length);
    server.close();
  });

  it('resets the context after each message with server_no_context_takeover', async () => {
    const server = new PerMessageDeflate(params({ serverNoContextTakeover: true }), true, DEFLATE_DEFAULTS);
    const text = Buffer.from('The quick brown fox jumps over the lazy dog, again and again. '.repeat(4));
    const first = await compress(server, text);
    const second = await compress(server, text);
    expect(second).toEqual(first);
    // Each message must inflate on its own.
    expect(inflateRawSync(Buffer.concat([second, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH }).equals(text)).toBe(true);
    server.close();
  });

  it('decompresses what another deflater produced, message after message with takeover', async () => {
    const client = new PerMessageDeflate(params(), false, DEFLATE_DEFAULTS);
    const message = Buffer.from('abcabcabcabc');
    const compressed = deflateRawSync(message, { finishFlush: constants.Z_SYNC_FLUSH });
    expect((await decompress(client, compressed.subarray(0, compressed.length - 4))).equals(message)).toBe(true);
    client.close();
  });

  it('stops inflating a bomb at the size limit', async () => {
    const client = new PerMessageDeflate(params(), false, DEFLATE_DEFAULTS);
    const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(100 * 1024);
    await expect(decompress(client, bomb, 1024 * 1024)).rejects.toBeInstanceOf(InflatedTooLargeError);
    // The context was dropped: the next message inflates from a fresh one.
    const ok = deflateRawSync(Buffer.from('after the bomb'), { finishFlush: constants.Z_SYNC_FLUSH });
    expect((await decompress(client, ok.subarray(0, ok.length - 4))).toString()).toBe('after the bomb');
    client.close();
  });

  it('reports corrupt data as an error', async () => {
    const client = new PerMessageDeflate(params(), false, DEFLATE_DEFAULTS);
    await expect(decompress(client, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]))).rejects.toThrow();
    client.close();
  });

  it('sends small messages and 8-bit windows uncompressed', () => {
    const server = new PerMessageDeflate(params(), true, DEFLATE_DEFAULTS);
    expect(server.canCompress(1023)).toBe(false);
    expect(server.canCompress(1024)).toBe(true);
    expect(new PerMessageDeflate(params({ serverMaxWindowBits: 8 }), true, DEFLATE_DEFAULTS).canCompress(4096)).toBe(false);
    expect(new PerMessageDeflate(params({ serverMaxWindowBits: 8 }), false, DEFLATE_DEFAULTS).canCompress(4096)).toBe(true);
  });

  it('runs at most concurrencyLimit jobs at once and finishes them all in order', async () => {
    const options = { ...DEFLATE_DEFAULTS, concurrencyLimit: 2 };
    const contexts = Array.from({ length: 6 }, () => new PerMessageDeflate(params(), true, options));
    const order: number[] = [];
    const jobs = contexts.map((pmd, i) => compress(pmd, Buffer.alloc(50000, i)).then(() => order.push(i)));
    expect(zlibLimiterFor(2).pending).toBe(4);
    // Contexts configured with another limit have their own slots: this job does not wait.
    const other = new PerMessageDeflate(params(), true, { ...DEFLATE_DEFAULTS, concurrencyLimit: 3 });
    const otherJob = compress(other, Buffer.alloc(50000, 9));
    expect(zlibLimiterFor(3).pending).toBe(0);
    expect(zlibLimiterFor(2).pending).toBe(4);
    await Promise.all([...jobs, otherJob]);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const pmd of [...contexts, other]) pmd.close();
  });

  it.each([
    ['compress', false],
    ['compress', true],
    ['decompress', false],
    ['decompress', true],
  ] as const)('close() during a %s job (no context takeover: %s) fails it, without partial output, and frees its zlib slot', async (kind, reset) => {
    const pmd = new PerMessageDeflate(params({ serverNoContextTakeover: reset, clientNoContextTakeover: reset }), true, DEFLATE_DEFAULTS);
    const input = kind === 'compress' ? Buffer.alloc(8 << 20, 7) : deflateRawSync(Buffer.alloc(4 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    const job = kind === 'compress' ? compress(pmd, input) : decompress(pmd, input.subarray(0, input.length - 4));
    pmd.close();
    await expect(job).rejects.toThrow('closed');
    expect(zlibLimiterFor(DEFLATE_DEFAULTS.concurrencyLimit).pending).toBe(0);
    // The slot is free: another context still gets its turn.
    const other = new PerMessageDeflate(params(), true, DEFLATE_DEFAULTS);
    await expect(compress(other, Buffer.from('after'))).resolves.toBeInstanceOf(Buffer);
    other.close();
  });

  it('fails jobs after close()', async () => {
    const server = new PerMessageDeflate(params(), true, DEFLATE_DEFAULTS);
    server.close();
    await expect(compress(server, Buffer.from('late'))).rejects.toThrow('closed');
  });
});
