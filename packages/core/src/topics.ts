/**
 * Topic bookkeeping for publish/subscribe: which members (connections) are subscribed to which
 * topics, indexed both ways so a publish visits only a topic's subscribers and a closing
 * connection leaves all its topics at once. Pure data: no sockets, no frames, no I/O.
 */

/** Called when a topic gains its first subscriber, or loses its last one. */
export type TopicHook = (topic: string) => void;

/** What a {@link TopicRegistry} reports to its owner. */
export interface TopicRegistryHooks {
  /** A topic got its first subscriber (a pub/sub driver subscribes to it). */
  onTopicOpened?: TopicHook;
  /** A topic lost its last subscriber (a pub/sub driver unsubscribes from it). */
  onTopicClosed?: TopicHook;
}

/**
 * Throw a `TypeError` unless `topic` is a non-empty string. `where` names the caller in the
 * message (e.g. `'subscribe()'`).
 */
export function assertTopic(topic: unknown, where: string): asserts topic is string {
  if (typeof topic !== 'string') {
    throw new TypeError(`${where} needs a topic name as a string, got ${topic === null ? 'null' : typeof topic}.`);
  }
  if (topic.length === 0) throw new TypeError(`${where} needs a non-empty topic name.`);
}

/**
 * A two-way index of topic subscriptions: topic → members and member → topics. Members are
 * compared by identity. Subscribing twice, or unsubscribing from a topic one is not in, changes
 * nothing (and returns false).
 */
export class TopicRegistry<M extends object> {
  private readonly byTopic = new Map<string, Set<M>>();
  private readonly byMember = new Map<M, Set<string>>();
  private readonly hooks: TopicRegistryHooks;

  /** @param hooks called when a topic opens (first subscriber) or closes (last one leaves) */
  constructor(hooks: TopicRegistryHooks = {}) {
    this.hooks = hooks;
  }

  /** Subscribe `member` to `topic`. True if it was not subscribed yet. */
  subscribe(member: M, topic: string): boolean {
    let members = this.byTopic.get(topic);
    if (members?.has(member)) return false;
    const opened = members === undefined;
    if (!members) {
      members = new Set();
      this.byTopic.set(topic, members);
    }
    members.add(member);
    let topics = this.byMember.get(member);
    if (!topics) {
      topics = new Set();
      this.byMember.set(member, topics);
    }
    topics.add(topic);
    if (opened) this.hooks.onTopicOpened?.(topic);
    return true;
  }

  /** Unsubscribe `member` from `topic`. True if it was subscribed. */
  unsubscribe(member: M, topic: string): boolean {
    const members = this.byTopic.get(topic);
    if (!members?.delete(member)) return false;
    const topics = this.byMember.get(member) as Set<string>;
    topics.delete(topic);
    if (topics.size === 0) this.byMember.delete(member);
    if (members.size === 0) {
      this.byTopic.delete(topic);
      this.hooks.onTopicClosed?.(topic);
    }
    return true;
  }

  /** Unsubscribe `member` from every topic (it closed). Returns the topics it left. */
  removeMember(member: M): string[] {
    const topics = this.byMember.get(member);
    if (!topics) return [];
    const left = [...topics];
    for (const topic of left) this.unsubscribe(member, topic);
    return left;
  }

  /**
   * The live set of `topic`'s subscribers (undefined when it has none). Not a copy: do not
   * modify it; members that unsubscribe while it is iterated are skipped, as a Set does.
   */
  subscribersOf(topic: string): ReadonlySet<M> | undefined {
    return this.byTopic.get(topic);
  }

  /** Number of members subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.byTopic.get(topic)?.size ?? 0;
  }

  /** Whether `member` is subscribed to `topic`. */
  isSubscribed(member: M, topic: string): boolean {
    return this.byTopic.get(topic)?.has(member) ?? false;
  }

  /** The topics `member` is subscribed to, in subscription order (a copy). */
  topicsOf(member: M): string[] {
    const topics = this.byMember.get(member);
    return topics ? [...topics] : [];
  }

  /** Every topic with at least one subscriber, in the order they opened (a copy). */
  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  /** Number of topics with at least one subscriber. */
  get topicCount(): number {
    return this.byTopic.size;
  }

  /** Number of members subscribed to at least one topic. */
  get memberCount(): number {
    return this.byMember.size;
  }
}
