import { Sender, type SenderSocket } from '../../src/sender';
import { FrameParser } from '../../src/protocol/frame-parser';

class FakeSocket implements SenderSocket {
  writes: Buffer[][] = [];
  private corkedChunks: Buffer[] | null = null;
  writableLength = 0;
  writableHighWaterMark = 16 * 1024;
  destroyed = false;
  nextResult = true;
  /** When set, write callbacks wait in `held` (the write is still in progress) until released. */
  holdCallbacks = false;
  held: Array<() => void> = [];
  write(chunk: Buffer, cb?: (error?: Error | null) => void): boolean {
    if (this.corkedChunks) this.corkedChunks.push(chunk);
    else this.writes.push([chunk]);
    if (cb && this.holdCallbacks) this.held.push(() => cb(null));
    else if (cb) process.nextTick(cb, null);
    return this.nextResult;
  }
  cork(): void {
    this.corkedChunks = [];
  }
  uncork(): void {
    if (this.corkedChunks) this.writes.push(this.corkedChunks);
    this.corkedChunks = null;
  }
}

const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

function parse(bytes: Buffer, masked: boolean): Array<{ opcode: number; fin: boolean; rsv1: boolean; payload: string }> {
  const frames: Array<{ opcode: number; fin: boolean; rsv1: boolean; payload: string }> = [];
  const parser = new FrameParser(
    { maxFrameSize: 0, expectMasked: masked, checkFragmentation: false, allowedRsv: 0x40 },
    { onFrame: (opcode, fin, rsv1, payload) => frames.push({ opcode, fin, rsv1, payload: payload.toString('latin1') }), onError: (e) => { throw e; } },
  );
  parser.push(bytes);
  return frames;
}

const writtenBytes = (socket: FakeSocket): Buffer => Buffer.concat(socket.writes.flat());

describe('Sender', () => {
  it('coalesces every frame sent in one tick into one write', async () => {
    const socket = new FakeSocket();
    const sender = new Sender(socket, { maskKey: () => null });
    for (let i = 0; i < 100; i++) sender.text(0x1, `message ${i}`, true, false);
    expect(socket.writes).toHaveLength(0);
    await tick();
    expect(socket.writes).toHaveLength(1);
    expect(socket.writes[0]).toHaveLength(1);
    const frames = parse(writtenBytes(socket), false);
    expect(frames.map((f) => f.payload)).toEqual(Array.from({ length: 100 }, (_, i) => `message ${i}`));
  });

  it('encodes short, medium and long text, including multi-byte characters', async () => {
    const socket = new FakeSocket();
    const sender = new Sender(socket, { maskKey: () => null });
    const texts = ['', 'é', '€'.repeat(41), 'x'.repeat(42), 'ü'.repeat(100), '😀'.repeat(2000), 'a'.repeat(70000)];
    for (const text of texts) sender.text(0x1, text, true, false);
    await tick();
    const frames = parse(writtenBytes(socket), false);
    expect(frames.map((f) => Buffer.from(f.payload, 'latin1').toString('utf8'))).toEqual(texts);
  });

  it('masks client frames without touching the caller payload', async () => {
    const socket = new FakeSocket();
    const keys = [Buffer.from([1, 2, 3, 4]), Buffer.from([9, 8, 7, 6]), Buffer.from([0xff, 0, 0xff, 0])];
    let k = 0;
    const sender = new Sender(socket, { maskKey: () => keys[k++ % keys.length] });
    const small = Buffer.from('small binary');
    const large = Buffer.alloc(10000, 0x41);
    sender.frame(0x2, small, true, false);
    sender.frame(0x2, large, true, false);
    sender.text(0x1, 'masked text', true, false);
    await tick();
    expect(small.toString()).toBe('small binary');
    expect(large.every((b) => b === 0x41)).toBe(true);
    const frames = parse(writtenBytes(socket), true);
    expect(frames.map((f) => f.payload.length)).toEqual([12, 10000, 11]);
    expect(frames[0].payload).toBe('small binary');
    expect(frames[1].payload).toBe('A'.repeat(10000));
    expect(frames[2].payload).toBe('masked text');
  });

  it('writes large unmasked payloads by reference, in order with slab bytes', async () => {
    const socket = new FakeSocket();
    const sender = new Sender(socket, { maskKey: () => null });
    const big = Buffer.alloc(100000, 7);
    sender.text(0x1, 'before', true, false);
    sender.frame(0x2, big, true, false);
    sender.text(0x1, 'after', true, false);
    await tick();
    expect(socket.writes).toHaveLength(1);
    expect(socket.writes[0].some((chunk) => chunk === big)).toBe(true);
    const frames = parse(writtenBytes(socket), false);
    expect(frames.map((f) => [f.opcode, f.payload.length])).toEqual([[1, 6], [2, 100000], [1, 5]]);
  });

  it('keeps FIN and RSV1 as given', async () => {
    const socket = new FakeSocket();
    const sender = new Sender(socket, { maskKey: () => null });
    sender.frame(0x1, Buffer.from('a'), false, true);
    sender.frame(0x0, Buffer.from('b'), true, false);
    await tick();
    const frames = parse(writtenBytes(socket), false);
    expect(frames.map((f) => [f.opcode, f.fin, f.rsv1])).toEqual([[1, false, true], [0, true, false]]);
  });

  it('calls every callback once the write completes, and flush() writes at once', async () => {
    const socket = new FakeSocket();
    const sender = new Sender(socket, { maskKey: () => null });
    const calls: Array<Error | null | undefined> = [];
    sender.text(0x1, 'a', true, false, (e) => calls.push(e));
    sender.text(0x1, 'b', true, false, (e) => calls.push(e));
    sender.flush();
    expect(socket.writes).toHaveLength(1);
    await tick();
    expect(calls).toEqual([null, null]);
  });

  it('reports a full buffer and emits drain itself when the socket took everything', async () => {
    const socket = new FakeSocket();
    socket.writableHighWaterMark = 100;
    const drains: number[] = [];
    const sender = new Sender(socket, { maskKey: () => null, onDrain: () => drains.push(1) });
    expect(sender.text(0x1, 'x'.repeat(50), true, false)).toBe(true);
    expect(sender.text(0x1, 'y'.repeat(50), true, false)).toBe(false);
    expect(sender.bufferedAmount).toBe(104);
    await tick();
    await tick();
    expect(drains).toEqual([1]);
  });

  it('leaves drain to the socket when its write reports full', async () => {
    const socket = new FakeSocket();
    socket.writableHighWaterMark = 10;
    socket.nextResult = false;
    const drains: number[] = [];
    const sender = new Sender(socket, { maskKey: () => null, onDrain: () => drains.push(1) });
    expect(sender.text(0x1, 'x'.repeat(20), true, false)).toBe(false);
    await tick();
    await tick();
    expect(drains).toEqual([]);
  });

  it('fails callbacks when the socket is gone', async () => {
    const socket = new FakeSocket();
    socket.destroyed = true;
    const sender = new Sender(socket, { maskKey: () => null });
    const errors: Array<Error | null | undefined> = [];
    sender.text(0x1, 'lost', true, false, (e) => errors.push(e));
    await tick();
    await tick();
    expect(socket.writes).toHaveLength(0);
    expect(errors[0]).toBeInstanceOf(Error);
  });

  it('sends pre-encoded frames as they are', async () => {
    const socket = new FakeSocket();
    const sender = new Sender(socket, { maskKey: () => null });
    const shared = Buffer.from([0x81, 0x02, 0x68, 0x69]);
    sender.raw([shared]);
    sender.raw([shared]);
    await tick();
    expect(writtenBytes(socket)).toEqual(Buffer.concat([shared, shared]));
  });

  describe('the slab shared by every sender of the process', () => {
    it('keeps each sender\'s frames apart when several senders write in one tick, in order and coalesced', async () => {
      const sockets = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
      const senders = sockets.map((socket) => new Sender(socket, { maskKey: () => null }));
      // Interleaved: A B C A B C ..., so each sender's region is cut by the others'.
      for (let i = 0; i < 50; i++) senders.forEach((sender, k) => sender.text(0x1, `s${k} m${i}`, true, false));
      // And runs of several frames from one sender, which stay one contiguous chunk.
      for (let i = 0; i < 5; i++) senders[1].frame(0x2, Buffer.from(`run ${i}`), true, false);
      await tick();
      sockets.forEach((socket, k) => {
        expect(socket.writes).toHaveLength(1);
        const frames = parse(writtenBytes(socket), false);
        const want = Array.from({ length: 50 }, (_, i) => `s${k} m${i}`);
        if (k === 1) want.push(...Array.from({ length: 5 }, (_, i) => `run ${i}`));
        expect(frames.map((f) => f.payload)).toEqual(want);
      });
      // Sender 1 wrote 5 frames in a row after the interleaving: those are one chunk, not five.
      expect(sockets[1].writes[0].length).toBeLessThanOrEqual(51);
    });

    it('never lets one sender overwrite bytes another has queued, across a new slab', async () => {
      const a = new FakeSocket();
      const b = new FakeSocket();
      const senderA = new Sender(a, { maskKey: () => null });
      const senderB = new Sender(b, { maskKey: () => null });
      const big = 'x'.repeat(4000);
      // Together far more than one 64 KiB slab: both senders roll over to new slabs mid-tick.
      for (let i = 0; i < 40; i++) {
        senderA.text(0x1, `${i}:${big}`, true, false);
        senderB.text(0x1, `${i}:${big.replace(/x/g, 'y')}`, true, false);
      }
      await tick();
      expect(parse(writtenBytes(a), false).map((f) => f.payload)).toEqual(Array.from({ length: 40 }, (_, i) => `${i}:${big}`));
      expect(parse(writtenBytes(b), false).map((f) => f.payload)).toEqual(Array.from({ length: 40 }, (_, i) => `${i}:${big.replace(/x/g, 'y')}`));
    });

    it('a discarded sender leaves the others intact, and its abandoned bytes are never sent', async () => {
      const a = new FakeSocket();
      const b = new FakeSocket();
      const senderA = new Sender(a, { maskKey: () => null });
      const senderB = new Sender(b, { maskKey: () => null });
      senderB.text(0x1, 'b1', true, false);
      const errors: unknown[] = [];
      senderA.text(0x1, 'a-lost', true, false, (e) => errors.push(e));
      senderA.discard();
      senderB.text(0x1, 'b2', true, false);
      senderA.text(0x1, 'a-after', true, false);
      await tick();
      await tick();
      expect(parse(writtenBytes(b), false).map((f) => f.payload)).toEqual(['b1', 'b2']);
      expect(parse(writtenBytes(a), false).map((f) => f.payload)).toEqual(['a-after']);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(Error);
    });

    it('bufferedAmount counts a sender\'s unsealed bytes only while it owns the slab region', async () => {
      const a = new FakeSocket();
      const b = new FakeSocket();
      const senderA = new Sender(a, { maskKey: () => null });
      const senderB = new Sender(b, { maskKey: () => null });
      senderA.text(0x1, 'abc', true, false);
      expect(senderA.bufferedAmount).toBe(5);
      senderB.text(0x1, 'defgh', true, false);
      // A's region was sealed into its queue when B started writing: still counted once.
      expect(senderA.bufferedAmount).toBe(5);
      expect(senderB.bufferedAmount).toBe(7);
      await tick();
      expect(senderA.bufferedAmount).toBe(0);
      expect(senderB.bufferedAmount).toBe(0);
    });
  });

  describe('fragments()', () => {
    function parseAll(bytes: Buffer, masked: boolean): Array<{ opcode: number; fin: boolean; rsv1: boolean; payload: Buffer }> {
      const frames: Array<{ opcode: number; fin: boolean; rsv1: boolean; payload: Buffer }> = [];
      const parser = new FrameParser(
        { maxFrameSize: 0, expectMasked: masked, checkFragmentation: true, allowedRsv: 0x40 },
        { onFrame: (opcode, fin, rsv1, payload) => frames.push({ opcode, fin, rsv1, payload: Buffer.from(payload) }), onError: (e) => { throw e; } },
      );
      parser.push(bytes);
      return frames;
    }
    const patterned = (n: number): Buffer => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 9)) & 0xff;
      return b;
    };
    const key = (): Uint8Array => Uint8Array.from([0x11, 0x22, 0x33, 0x44]);

    it.each([
      ['a few fragments, as views', 3 * 16384, 16384, false],
      ['1 MiB in 16 KiB fragments, staged', 1024 * 1024, 16384, false],
      ['fragments that straddle staging buffers', 1024 * 1024 + 7, 65537, false],
      ['fragments whose headers land on staging boundaries', 600000, 262136, false],
      ['masked (client) fragments, staged', 300001, 16384, true],
    ])('%s: the frames carry the message in order, RSV1 on the first only', async (_name, size, fragmentSize, masked) => {
      const socket = new FakeSocket();
      const sender = new Sender(socket, { maskKey: () => (masked ? key() : null) });
      const payload = patterned(size);
      const copy = Buffer.from(payload);
      const done: unknown[] = [];
      sender.text(0x1, 'before', true, false);
      sender.fragments(0x2, payload, fragmentSize, true, (e) => done.push(e ?? null));
      sender.text(0x1, 'after', true, false);
      await tick();
      await tick();
      const frames = parseAll(writtenBytes(socket), masked);
      expect(frames[0].payload.toString()).toBe('before');
      expect(frames[frames.length - 1].payload.toString()).toBe('after');
      const parts = frames.slice(1, -1);
      expect(parts).toHaveLength(Math.ceil(size / fragmentSize));
      expect(parts.map((f) => f.opcode)).toEqual(parts.map((_f, i) => (i === 0 ? 0x2 : 0x0)));
      expect(parts.map((f) => f.fin)).toEqual(parts.map((_f, i) => i === parts.length - 1));
      expect(parts.map((f) => f.rsv1)).toEqual(parts.map((_f, i) => i === 0));
      expect(parts.every((f, i) => i === parts.length - 1 || f.payload.length === fragmentSize)).toBe(true);
      expect(Buffer.concat(parts.map((f) => f.payload)).equals(copy)).toBe(true);
      // The caller's bytes are never changed (masking goes into the staging copy).
      expect(payload.equals(copy)).toBe(true);
      expect(done).toEqual([null]);
    });

    it('writes a staged message as a few large chunks, not a piece per header and fragment', async () => {
      const socket = new FakeSocket();
      const sender = new Sender(socket, { maskKey: () => null });
      sender.fragments(0x2, patterned(1024 * 1024), 16384, false);
      await tick();
      expect(socket.writes).toHaveLength(1);
      // 64 frames: 1 MiB plus 64 headers of 4 bytes, in 256 KiB staging buffers.
      expect(socket.writes[0].length).toBeLessThanOrEqual(5);
      expect(socket.writes[0].reduce((n, c) => n + c.length, 0)).toBe(1024 * 1024 + 64 * 4);
    });

    it('reuses a staging buffer once the socket has written it, and never before', async () => {
      const socket = new FakeSocket();
      socket.holdCallbacks = true;
      const sender = new Sender(socket, { maskKey: () => null });
      sender.fragments(0x2, patterned(100000), 16384, false);
      await tick();
      const first = socket.writes[0][0];
      const firstBytes = Buffer.from(first);
      // The first write is still in progress: a second message must not take its buffer.
      sender.fragments(0x2, patterned(100000), 16384, false);
      await tick();
      const second = socket.writes[1][0];
      expect(second.buffer).not.toBe(first.buffer);
      expect(Buffer.from(first).equals(firstBytes)).toBe(true);
      // Both written now: the next staged message reuses one of their buffers.
      for (const release of socket.held.splice(0)) release();
      sender.fragments(0x2, patterned(100000), 16384, false);
      await tick();
      expect([first.buffer, second.buffer]).toContain(socket.writes[2][0].buffer);
    });

    it('hands staging buffers back when the queue is discarded, and fails the callback', async () => {
      const socket = new FakeSocket();
      const sender = new Sender(socket, { maskKey: () => null });
      const errors: unknown[] = [];
      sender.fragments(0x2, patterned(200000), 16384, false, (e) => errors.push(e));
      sender.discard();
      await tick();
      await tick();
      expect(socket.writes).toHaveLength(0);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(Error);
      sender.fragments(0x2, patterned(200000), 16384, false);
      await tick();
      expect(parseAll(writtenBytes(socket), false)).toHaveLength(Math.ceil(200000 / 16384));
    });

    it('counts staged bytes in bufferedAmount until they are flushed', async () => {
      const socket = new FakeSocket();
      const sender = new Sender(socket, { maskKey: () => null });
      sender.fragments(0x2, patterned(100000), 16384, false);
      expect(sender.bufferedAmount).toBe(100000 + Math.ceil(100000 / 16384) * 4);
      await tick();
      expect(sender.bufferedAmount).toBe(0);
    });
  });
});
