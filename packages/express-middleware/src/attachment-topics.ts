/**
 * Topics of one attachment. An attachment may own several core servers (one per set of route
 * core options), each indexing its own connections' subscriptions; this links them into one
 * topic space: `attached.publish()` reaches the subscribers of every route, a publish on one
 * server reaches the others, and an application's pub/sub driver (e.g. `@wsuite/redis`) sees the
 * attachment as one target, subscribed to a topic while any of its servers has a subscriber.
 */
import {
  assertPubSubDriver,
  assertTopic,
  readPublishOptions,
  toPublishPayload,
  type PubSubDriver,
  type PubSubTarget,
  type PublishData,
  type PublishOptions,
  type WebSocketServer,
} from '@wsuite/core';

/** The driver each of the attachment's servers gets, and the target the application's driver delivers to. */
export class AttachmentTopics implements PubSubDriver, PubSubTarget {
  private readonly servers: WebSocketServer[] = [];
  // Topic → number of the attachment's servers with local subscribers of it.
  private readonly serverCounts = new Map<string, number>();
  private driver: PubSubDriver | null = null;

  /** Link a server the attachment created (before it accepts connections). */
  addServer(server: WebSocketServer): void {
    this.servers.push(server);
    server.setPubSub(this);
  }

  /**
   * Publish to the subscribers of every server of the attachment (`options.except` skipped),
   * then, unless `options.local`, through the application's driver to other processes.
   * Returns the number of local subscribers it was handed to.
   */
  publishAll(topic: string, data: PublishData, options?: PublishOptions): number {
    assertTopic(topic, 'attached.publish()');
    const { except, local } = readPublishOptions(options, 'attached.publish()');
    const driver = local ? null : this.driver;
    // Converted for the driver, and to check `data` even when no server exists yet.
    const message = driver || this.servers.length === 0 ? toPublishPayload(data, 'attached.publish()') : null;
    let delivered = 0;
    for (const server of this.servers) delivered += server.publish(topic, data, { except, local: true });
    if (driver && message) driver.publish(topic, message.payload, message.isBinary, this);
    return delivered;
  }

  /** Subscribers of `topic` on every server of the attachment. */
  subscriberCount(topic: string): number {
    assertTopic(topic, 'attached.subscriberCount()');
    let count = 0;
    for (const server of this.servers) count += server.subscriberCount(topic);
    return count;
  }

  /** Topics with at least one subscriber on the attachment. */
  get topics(): string[] {
    return [...this.serverCounts.keys()];
  }

  /** Set (or with null, remove) the application's driver; current topics move to it. */
  setDriver(driver: PubSubDriver | null): void {
    assertPubSubDriver(driver);
    const previous = this.driver;
    if (previous === driver) return;
    this.driver = driver;
    for (const topic of this.serverCounts.keys()) {
      previous?.unsubscribe(topic, this);
      driver?.subscribe(topic, this);
    }
  }

  /** A server of the attachment has its first subscriber of `topic`. */
  subscribe(topic: string): void {
    const count = (this.serverCounts.get(topic) ?? 0) + 1;
    this.serverCounts.set(topic, count);
    if (count === 1) this.driver?.subscribe(topic, this);
  }

  /** A server of the attachment has no subscriber of `topic` left. */
  unsubscribe(topic: string): void {
    const count = this.serverCounts.get(topic);
    if (count === undefined) return;
    if (count > 1) {
      this.serverCounts.set(topic, count - 1);
      return;
    }
    this.serverCounts.delete(topic);
    this.driver?.unsubscribe(topic, this);
  }

  /** A server of the attachment published (`server.publish`): the other servers, then the driver. */
  publish(topic: string, payload: Buffer, isBinary: boolean, origin: PubSubTarget): void {
    for (const server of this.servers) if (server !== origin) server.deliverRemote(topic, payload, isBinary);
    this.driver?.publish(topic, payload, isBinary, this);
  }

  /** A message from another process: to the subscribers of every server of the attachment. */
  deliverRemote(topic: string, payload: Buffer, isBinary: boolean): number {
    let delivered = 0;
    for (const server of this.servers) delivered += server.deliverRemote(topic, payload, isBinary);
    return delivered;
  }
}
