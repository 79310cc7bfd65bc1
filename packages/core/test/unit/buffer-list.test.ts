/**
 * BufferList (WebSocket-Node's vendor/FastBufferList): write, length, joinInto, join,
 * advance, take, forEach and toString across several buffers, its events, the
 * "Insufficient space" error, and a random model-based run against a plain byte array.
 */
import { BufferList } from '../../src/buffer-list';
import { prng } from '../helpers/prng';

/** A list holding "abc", "defg", "h", "ijklmn" (14 bytes in 4 buffers). */
function sample(): BufferList {
  const list = new BufferList();
  for (const s of ['abc', 'defg', 'h', 'ijklmn']) list.write(Buffer.from(s));
  return list;
}

describe('BufferList basics', () => {
  it('starts empty', () => {
    const list = new BufferList();
    expect(list.length).toBe(0);
    expect(list.take()).toEqual(Buffer.alloc(0));
    expect(list.join()).toEqual(Buffer.alloc(0));
  });

  it('write appends, counts length, returns true and emits "write" with the buffer', () => {
    const list = new BufferList();
    const seen: Buffer[] = [];
    list.on('write', (b: Buffer) => seen.push(b));
    const a = Buffer.from('abc');
    const b = Buffer.from('de');
    expect(list.write(a)).toBe(true);
    expect(list.write(b)).toBe(true);
    expect(list.length).toBe(5);
    expect(seen).toEqual([a, b]);
    expect(seen[0]).toBe(a);
  });

  it('push appends several buffers and skips empty ones', () => {
    const list = new BufferList();
    expect(list.push(Buffer.from('ab'), Buffer.alloc(0), Buffer.from('c'))).toBe(list);
    expect(list.length).toBe(3);
    expect(list.take().toString()).toBe('abc');
  });

  it('end writes a last buffer and emits "end"', () => {
    const list = new BufferList();
    const events: string[] = [];
    list.on('write', () => events.push('write'));
    list.on('end', () => events.push('end'));
    list.end(Buffer.from('z'));
    expect(events).toEqual(['write', 'end']);
    expect(list.length).toBe(1);
  });
});

describe('BufferList.joinInto', () => {
  it('copies ranges that span several buffers into the target at targetStart', () => {
    const list = sample();
    const all = 'abcdefghijklmn';
    for (let start = 0; start <= 14; start++) {
      for (let end = start; end <= 14; end++) {
        const target = Buffer.alloc(end - start + 3, '.');
        expect(list.joinInto(target, 2, start, end)).toBe(target);
        expect(target.toString()).toBe(`..${all.slice(start, end)}.`);
      }
    }
  });

  it('reads from the unconsumed part after advance', () => {
    const list = sample();
    list.advance(5); // "abc" gone, "de" of "defg" gone
    const target = Buffer.alloc(6);
    list.joinInto(target, 0, 0, 6);
    expect(target.toString()).toBe('fghijk');
    const two = Buffer.alloc(2);
    list.joinInto(two, 0, 2, 4);
    expect(two.toString()).toBe('hi');
  });

  it('throws "Insufficient space available in target Buffer." when the target is too small', () => {
    const list = sample();
    expect(() => list.joinInto(Buffer.alloc(3), 0, 0, 4)).toThrow(new Error('Insufficient space available in target Buffer.'));
    expect(() => list.joinInto(Buffer.alloc(10), 8, 0, 3)).toThrow('Insufficient space available in target Buffer.');
    // Exactly enough space is fine.
    const exact = Buffer.alloc(10);
    list.joinInto(exact, 7, 0, 3);
    expect(exact.subarray(7).toString()).toBe('abc');
  });
});

describe('BufferList.advance, take and join', () => {
  it('advance drops bytes across buffer boundaries and emits "advance" with n', () => {
    const list = sample();
    const seen: number[] = [];
    list.on('advance', (n: number) => seen.push(n));
    list.advance(2);
    expect(list.length).toBe(12);
    expect(list.take().toString()).toBe('cdefghijklmn');
    list.advance(1); // exactly the end of "abc"
    expect(list.take(4).toString()).toBe('defg');
    list.advance(5); // "defg" and "h"
    expect(list.take().toString()).toBe('ijklmn');
    list.advance(0);
    expect(list.length).toBe(6);
    list.advance(6);
    expect(list.length).toBe(0);
    expect(seen).toEqual([2, 1, 5, 0, 6]);
    list.write(Buffer.from('new'));
    expect(list.take().toString()).toBe('new');
  });

  it('take(n) copies the first n bytes without consuming them', () => {
    const list = sample();
    const first = list.take(5);
    expect(first.toString()).toBe('abcde');
    expect(list.length).toBe(14);
    first[0] = 0x5a;
    expect(list.take(1).toString()).toBe('a');
    expect(list.take().toString()).toBe('abcdefghijklmn');
    expect(list.take(0)).toHaveLength(0);
    expect(list.take(100).toString()).toBe('abcdefghijklmn');
  });

  it('take(n, encoding) and take(encoding) return strings (API doc §10)', () => {
    const list = new BufferList();
    list.write(Buffer.from([0x61, 0xc3]));
    list.write(Buffer.from([0xa9, 0x62]));
    expect(list.take(4, 'utf8')).toBe('aéb');
    expect(list.take(1, 'hex')).toBe('61');
    expect(list.take('base64')).toBe(Buffer.from([0x61, 0xc3, 0xa9, 0x62]).toString('base64'));
    expect(Buffer.isBuffer(list.take(4))).toBe(true);
  });

  it('join(start, end) copies any range', () => {
    const list = sample();
    expect(list.join(3, 9).toString()).toBe('defghi');
    expect(list.join().toString()).toBe('abcdefghijklmn');
    list.advance(4);
    expect(list.join(0, 3).toString()).toBe('efg');
  });

  it('forEach visits each buffer, the first trimmed to its unread part', () => {
    const list = sample();
    list.advance(4);
    const seen: string[] = [];
    list.forEach((b) => seen.push(b.toString()));
    expect(seen).toEqual(['efg', 'h', 'ijklmn']);
  });

  it('toString decodes the content as "binary" (latin1), like WebSocket-Node', () => {
    const list = new BufferList();
    list.write(Buffer.from('ab'));
    list.write(Buffer.from([0xc3, 0xa9]));
    expect(list.toString()).toBe('abÃ©');
  });
});

describe('BufferList against a model', () => {
  it('matches a plain byte array through 3000 random operations', () => {
    const rand = prng(31337);
    const list = new BufferList();
    let model: number[] = [];
    let next = 0;
    for (let step = 0; step < 3000; step++) {
      const op = rand();
      if (op < 0.4) {
        const n = Math.floor(rand() * 9);
        const bytes = Array.from({ length: n }, () => next++ & 0xff);
        list.write(Buffer.from(bytes));
        model = model.concat(bytes);
      } else if (op < 0.6) {
        const n = Math.floor(rand() * (model.length + 1));
        list.advance(n);
        model = model.slice(n);
      } else if (op < 0.8) {
        const start = Math.floor(rand() * (model.length + 1));
        const end = start + Math.floor(rand() * (model.length - start + 1));
        const targetStart = Math.floor(rand() * 4);
        const target = Buffer.alloc(targetStart + end - start + Math.floor(rand() * 3), 0xee);
        list.joinInto(target, targetStart, start, end);
        expect([...target.subarray(targetStart, targetStart + end - start)]).toEqual(model.slice(start, end));
        expect(target.subarray(0, targetStart).every((b) => b === 0xee)).toBe(true);
      } else {
        const n = Math.floor(rand() * (model.length + 2));
        expect([...list.take(n)]).toEqual(model.slice(0, n));
      }
      expect(list.length).toBe(model.length);
    }
  });
});
