/**
 * The chat page in a real browser (Debian's Chromium) against each framework example:
 * two users chatting, permessage-deflate, server-side validation, reconnecting after a restart.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ChatPage, FRAMEWORKS, launchBrowser, startChat, type RunningChat } from './helpers';

describe.each(FRAMEWORKS)('chat example on %s', (framework) => {
  let browser: Browser;
  let server: RunningChat | undefined;
  const pages: ChatPage[] = [];
  const open = async (url: string): Promise<ChatPage> => {
    const page = await ChatPage.open(browser, url);
    pages.push(page);
    return page;
  };

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.all(pages.splice(0).map((page) => page.close()));
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lets two browser pages chat in a room, with presence', async () => {
    server = await startChat(framework);
    const ada = await open(server.url);
    const bob = await open(server.url);
    await ada.join('ada');
    await ada.waitForMembers(['ada']);
    await bob.join('bob');
    await ada.waitForMembers(['ada', 'bob']);
    await bob.waitForMembers(['ada', 'bob']);

    await bob.say('hello from bob');
    await ada.waitForMessage('bob', 'hello from bob');
    await ada.say('hi bob, this is ada');
    await bob.waitForMessage('ada', 'hi bob, this is ada');

    // Another room is another conversation.
    const cy = await open(server.url);
    await cy.join('cy', 'random');
    await cy.say('anyone in random?');
    await cy.waitForMessage('cy', 'anyone in random?');
    await bob.say('still lobby');
    await ada.waitForMessage('bob', 'still lobby');
    expect(await cy.page.locator('#messages li', { hasText: 'still lobby' }).count()).toBe(0);
    expect(await ada.page.locator('#messages li', { hasText: 'anyone in random?' }).count()).toBe(0);

    // Leaving (closing the tab) updates the others' member list.
    await bob.close();
    await ada.waitForMembers(['ada']);
    await ada.page.locator('#messages li.system', { hasText: 'bob left.' }).waitFor();
  });

  it('negotiates permessage-deflate when the server enables it (seen by the browser and by the server)', async () => {
    server = await startChat(framework, { perMessageDeflate: true });
    const ada = await open(server.url);
    const bob = await open(server.url);
    expect((await ada.debug()).extensions).toMatch(/^permessage-deflate\b/);
    // The server's welcome event lists the extensions it agreed to on its side of the connection.
    await ada.page.locator('#server', { hasText: `server: ${framework} · permessage-deflate on` }).waitFor();

    // A compressible message goes through compressed frames both ways.
    await ada.join('ada');
    await bob.join('bob');
    const long = 'compress me please '.repeat(26).trim();
    await ada.say(long);
    await bob.waitForMessage('ada', long);
  });

  it('does not negotiate permessage-deflate when the server turns it off', async () => {
    server = await startChat(framework, { perMessageDeflate: false });
    const ada = await open(server.url);
    expect((await ada.debug()).extensions).toBe('');
    await ada.page.locator('#server', { hasText: `server: ${framework} · no compression` }).waitFor();
  });

  it('answers each invalid message with an error event and keeps the connection open', async () => {
    server = await startChat(framework);
    const ada = await open(server.url);
    const bad = async (frame: string | number[]): Promise<string> => {
      const before = (await ada.debug()).errors.length;
      await ada.sendRaw(frame);
      await ada.waitForMoreErrorsThan(before);
      const { errors } = await ada.debug();
      expect(errors).toHaveLength(before + 1);
      return errors[before];
    };

    await bad('this is not JSON');
    expect(await bad(JSON.stringify({ event: 'say', data: { text: 'before joining' } }))).toMatch(/join a room/i);
    expect(await bad(JSON.stringify({ event: 'join', data: { nick: 'x'.repeat(25), room: 'lobby' } }))).toMatch(/nick/);
    expect(await bad(JSON.stringify({ event: 'join', data: { nick: '   ', room: 'lobby' } }))).toMatch(/nick/);
    expect(await bad(JSON.stringify({ event: 'join', data: { nick: 42, room: 'lobby' } }))).toMatch(/nick/);
    expect(await bad(JSON.stringify({ event: 'join', data: { nick: 'ada', room: 'No Spaces!' } }))).toMatch(/room/);
    await bad([1, 2, 3]);
    // The page shows the last error.
    await ada.page.locator('#notice:visible', { hasText: /.+/ }).waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    await ada.page.screenshot({ path: join(ARTIFACTS, `chat-${framework}-error.png`) });

    await ada.join('ada');
    expect(await bad(JSON.stringify({ event: 'say', data: { text: 'y'.repeat(501) } }))).toMatch(/text/);
    expect(await bad(JSON.stringify({ event: 'say', data: { text: 7 } }))).toMatch(/text/);

    // Still the first connection, still open, still chatting.
    const after = await ada.debug();
    expect(after.opens).toBe(1);
    expect(after.readyState).toBe(1);
    expect(after.state).toBe('open');
    await ada.say('still here');
    await ada.waitForMessage('ada', 'still here');
  });

  it('reconnects with backoff after the server restarts, rejoins the room and chats again', async () => {
    server = await startChat(framework);
    const port = server.port;
    const ada = await open(server.url);
    const bob = await open(server.url);
    await ada.join('ada');
    await bob.join('bob');
    await ada.waitForMembers(['ada', 'bob']);

    await server.close();
    server = undefined;
    await ada.waitForState('reconnecting');
    await bob.waitForState('reconnecting');
    expect(await ada.page.locator('#text').isDisabled()).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await ada.page.screenshot({ path: join(ARTIFACTS, `chat-${framework}-reconnecting.png`) });

    server = await startChat(framework, { port });
    await ada.waitForState('open');
    await bob.waitForState('open');
    // Both pages joined their room again on their own.
    await ada.waitForMembers(['ada', 'bob']);
    await bob.waitForMembers(['ada', 'bob']);
    await ada.page.locator('#text:enabled').waitFor();
    await ada.say('back again');
    await bob.waitForMessage('ada', 'back again');
    expect((await ada.debug()).opens).toBe(2);
    expect((await bob.debug()).opens).toBe(2);
  });
});
