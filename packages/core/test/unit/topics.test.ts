/**
 * Topic bookkeeping (src/topics.ts): the two-way index, idempotence, leaving every topic at
 * once, the open/close hooks a pub/sub driver relies on, and topic name checks.
 */
import fc from 'fast-check';
import { TopicRegistry, assertTopic } from '../../src/topics';

interface Member {
  name: string;
}

function setup(): { registry: TopicRegistry<Member>; events: string[]; a: Member; b: Member; c: Member } {
  const events: string[] = [];
  const registry = new TopicRegistry<Member>({
    onTopicOpened: (topic) => events.push(`open ${topic}`),
    onTopicClosed: (topic) => events.push(`close ${topic}`),
  });
  return { registry, events, a: { name: 'a' }, b: { name: 'b' }, c: { name: 'c' } };
}

describe('TopicRegistry', () => {
  it('indexes subscriptions both ways: topic → members and member → topics', () => {
    const { registry, a, b, c } = setup();
    expect(registry.subscribe(a, 'news')).toBe(true);
    expect(registry.subscribe(b, 'news')).toBe(true);
    expect(registry.subscribe(a, 'sport')).toBe(true);
    expect([...(registry.subscribersOf('news') ?? [])]).toEqual([a, b]);
    expect([...(registry.subscribersOf('sport') ?? [])]).toEqual([a]);
    expect(registry.subscribersOf('weather')).toBeUndefined();
    expect(registry.topicsOf(a)).toEqual(['news', 'sport']);
    expect(registry.topicsOf(b)).toEqual(['news']);
    expect(registry.topicsOf(c)).toEqual([]);
    expect(registry.subscriberCount('news')).toBe(2);
    expect(registry.subscriberCount('sport')).toBe(1);
    expect(registry.subscriberCount('weather')).toBe(0);
    expect(registry.isSubscribed(a, 'sport')).toBe(true);
    expect(registry.isSubscribed(b, 'sport')).toBe(false);
    expect(registry.topics).toEqual(['news', 'sport']);
    expect(registry.topicCount).toBe(2);
    expect(registry.memberCount).toBe(2);
  });

  it('subscribing twice or unsubscribing from a topic one is not in changes nothing and returns false', () => {
    const { registry, events, a, b } = setup();
    registry.subscribe(a, 'news');
    expect(registry.subscribe(a, 'news')).toBe(false);
    expect(registry.subscriberCount('news')).toBe(1);
    expect(registry.unsubscribe(b, 'news')).toBe(false);
    expect(registry.unsubscribe(a, 'sport')).toBe(false);
    expect(registry.subscriberCount('news')).toBe(1);
    expect(events).toEqual(['open news']);
  });

  it('calls onTopicOpened on the first subscriber and onTopicClosed when the last one leaves, once each', () => {
    const { registry, events, a, b } = setup();
    registry.subscribe(a, 'news');
    registry.subscribe(b, 'news');
    registry.unsubscribe(a, 'news');
    expect(events).toEqual(['open news']);
    registry.unsubscribe(b, 'news');
    expect(events).toEqual(['open news', 'close news']);
    registry.subscribe(b, 'news');
    expect(events).toEqual(['open news', 'close news', 'open news']);
  });

  it('unsubscribe forgets empty topics and members (nothing is kept for them)', () => {
    const { registry, a } = setup();
    registry.subscribe(a, 'news');
    expect(registry.unsubscribe(a, 'news')).toBe(true);
    expect(registry.topics).toEqual([]);
    expect(registry.topicCount).toBe(0);
    expect(registry.memberCount).toBe(0);
    expect(registry.topicsOf(a)).toEqual([]);
    expect(registry.subscribersOf('news')).toBeUndefined();
  });

  it('removeMember leaves every topic of a member and closes the topics it was alone in', () => {
    const { registry, events, a, b } = setup();
    registry.subscribe(a, 'news');
    registry.subscribe(a, 'sport');
    registry.subscribe(b, 'news');
    events.length = 0;
    expect(registry.removeMember(a)).toEqual(['news', 'sport']);
    expect(events).toEqual(['close sport']);
    expect(registry.topicsOf(a)).toEqual([]);
    expect(registry.subscriberCount('news')).toBe(1);
    expect(registry.topics).toEqual(['news']);
    expect(registry.removeMember(a)).toEqual([]);
  });

  it('returns copies: changing topicsOf() or topics does not change the registry', () => {
    const { registry, a } = setup();
    registry.subscribe(a, 'news');
    registry.topicsOf(a).push('forged');
    registry.topics.push('forged');
    expect(registry.topicsOf(a)).toEqual(['news']);
    expect(registry.topics).toEqual(['news']);
  });

  it('lets a member leave while the topic’s subscriber set is being iterated (the rest are still visited once)', () => {
    const { registry } = setup();
    const members = Array.from({ length: 10 }, (_, i) => ({ name: `m${i}` }));
    for (const member of members) registry.subscribe(member, 'news');
    const visited: string[] = [];
    for (const member of registry.subscribersOf('news') ?? []) {
      visited.push(member.name);
      registry.removeMember(member);
    }
    expect(visited).toEqual(members.map((m) => m.name));
    expect(registry.subscriberCount('news')).toBe(0);
  });

  it('works without hooks', () => {
    const registry = new TopicRegistry<Member>();
    const a = { name: 'a' };
    expect(registry.subscribe(a, 't')).toBe(true);
    expect(registry.unsubscribe(a, 't')).toBe(true);
  });

  it('agrees with a simple model under any sequence of operations (property test)', () => {
    const memberCount = 4;
    const topicNames = ['t0', 't1', 't2'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('sub' as const), member: fc.nat(memberCount - 1), topic: fc.constantFrom(...topicNames) }),
      fc.record({ kind: fc.constant('unsub' as const), member: fc.nat(memberCount - 1), topic: fc.constantFrom(...topicNames) }),
      fc.record({ kind: fc.constant('remove' as const), member: fc.nat(memberCount - 1), topic: fc.constant('') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let opened = 0;
        let closed = 0;
        const registry = new TopicRegistry<Member>({ onTopicOpened: () => opened++, onTopicClosed: () => closed++ });
        const members = Array.from({ length: memberCount }, (_, i) => ({ name: `m${i}` }));
        const model = new Map<string, Set<number>>(topicNames.map((t) => [t, new Set<number>()]));
        for (const { kind, member, topic } of ops) {
          if (kind === 'sub') {
            const fresh = !model.get(topic)!.has(member);
            model.get(topic)!.add(member);
            expect(registry.subscribe(members[member], topic)).toBe(fresh);
          } else if (kind === 'unsub') {
            const had = model.get(topic)!.delete(member);
            expect(registry.unsubscribe(members[member], topic)).toBe(had);
          } else {
            const expected = topicNames.filter((t) => model.get(t)!.has(member));
            for (const t of topicNames) model.get(t)!.delete(member);
            expect(registry.removeMember(members[member]).sort()).toEqual(expected);
          }
        }
        for (const t of topicNames) {
          expect(registry.subscriberCount(t)).toBe(model.get(t)!.size);
          for (let m = 0; m < memberCount; m++) expect(registry.isSubscribed(members[m], t)).toBe(model.get(t)!.has(m));
        }
        for (let m = 0; m < memberCount; m++) {
          expect(registry.topicsOf(members[m]).sort()).toEqual(topicNames.filter((t) => model.get(t)!.has(m)));
        }
        const open = topicNames.filter((t) => model.get(t)!.size > 0);
        expect(registry.topics.sort()).toEqual(open);
        // Every open topic was opened once more than it was closed.
        expect(opened - closed).toBe(open.length);
      }),
    );
  });
});

describe('assertTopic', () => {
  it('accepts non-empty strings', () => {
    expect(() => assertTopic('news', 'subscribe()')).not.toThrow();
    expect(() => assertTopic('rooms/42 ünïcode', 'subscribe()')).not.toThrow();
  });

  it('throws a TypeError naming the caller for anything else', () => {
    expect(() => assertTopic('', 'subscribe()')).toThrow(new TypeError('subscribe() needs a non-empty topic name.'));
    expect(() => assertTopic(42, 'publish()')).toThrow(new TypeError('publish() needs a topic name as a string, got number.'));
    expect(() => assertTopic(null, 'publish()')).toThrow(new TypeError('publish() needs a topic name as a string, got null.'));
    expect(() => assertTopic(undefined, 'unsubscribe()')).toThrow(TypeError);
  });
});
