/**
 * The pub/sub seam's helpers (src/pubsub.ts): publish data to bytes, publish option checks and
 * the driver shape check.
 */
import { assertPubSubDriver, readPublishOptions, toPublishPayload } from '../../src/pubsub';

describe('toPublishPayload', () => {
  it('keeps Buffers as binary without copying', () => {
    const buffer = Buffer.from([0, 255, 1]);
    const result = toPublishPayload(buffer);
    expect(result.isBinary).toBe(true);
    expect(result.payload).toBe(buffer);
  });

  it('treats ArrayBuffers and views as binary (views without copying)', () => {
    const bytes = new Uint8Array([9, 8, 7, 6]);
    const view = toPublishPayload(bytes.subarray(1, 3));
    expect(view).toEqual({ payload: Buffer.from([8, 7]), isBinary: true });
    expect(view.payload.buffer).toBe(bytes.buffer);
    expect(toPublishPayload(bytes.buffer)).toEqual({ payload: Buffer.from([9, 8, 7, 6]), isBinary: true });
  });

  it('encodes strings and toString() values as UTF-8 text', () => {
    expect(toPublishPayload('héllo ✓')).toEqual({ payload: Buffer.from('héllo ✓', 'utf8'), isBinary: false });
    expect(toPublishPayload({ toString: () => 'obj' })).toEqual({ payload: Buffer.from('obj'), isBinary: false });
    expect(toPublishPayload(42 as unknown as string)).toEqual({ payload: Buffer.from('42'), isBinary: false });
  });

  it('throws a TypeError for null and undefined', () => {
    expect(() => toPublishPayload(null as never)).toThrow(new TypeError('publish() needs the message as a Buffer, an ArrayBuffer (view) or a string, got null.'));
    expect(() => toPublishPayload(undefined as never, 'attached.publish()')).toThrow(/^attached\.publish\(\) needs the message/);
  });
});

describe('readPublishOptions', () => {
  const connection = { sendEncodedFrames: () => true } as never;

  it('defaults to no exception and fan-out', () => {
    expect(readPublishOptions(undefined)).toEqual({ except: null, local: false });
    expect(readPublishOptions({})).toEqual({ except: null, local: false });
    expect(readPublishOptions({ except: null })).toEqual({ except: null, local: false });
  });

  it('returns except and local when valid', () => {
    expect(readPublishOptions({ except: connection, local: true })).toEqual({ except: connection, local: true });
  });

  it('throws TypeErrors naming the bad option', () => {
    expect(() => readPublishOptions('x' as never)).toThrow(new TypeError('publish() options must be an object like { except, local }, got string.'));
    expect(() => readPublishOptions({ except: {} as never })).toThrow(new TypeError('publish() option "except" must be a WebSocketConnection (or null), got object.'));
    expect(() => readPublishOptions({ except: 'me' as never })).toThrow(/option "except"/);
    expect(() => readPublishOptions({ local: 'yes' as never })).toThrow(new TypeError('publish() option "local" must be a boolean, got string.'));
  });
});

describe('assertPubSubDriver', () => {
  it('accepts null and objects with subscribe, unsubscribe and publish', () => {
    expect(() => assertPubSubDriver(null)).not.toThrow();
    expect(() => assertPubSubDriver({ subscribe() {}, unsubscribe() {}, publish() {} })).not.toThrow();
  });

  it('throws a TypeError listing the required methods otherwise', () => {
    for (const bad of [undefined, 42, 'redis', {}, { subscribe() {}, unsubscribe() {} }]) {
      expect(() => assertPubSubDriver(bad)).toThrow(TypeError);
    }
    expect(() => assertPubSubDriver({})).toThrow(/subscribe\(topic, target\), unsubscribe\(topic, target\) and publish\(topic, payload, isBinary, origin\)/);
  });
});
