/**
 * The `npm start` demo (examples/chat-fastify): started by its start script the way `npm start`
 * runs it, and a screenshot of the page in use, saved to test-artifacts/chat-demo.png.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ChatPage, launchBrowser, runStartScript, startChat, type RunningChat, type RunningProgram } from './helpers';

describe('the npm start demo (Fastify chat)', () => {
  let browser: Browser | undefined;
  let server: RunningChat | undefined;
  let program: RunningProgram | undefined;
  const pages: ChatPage[] = [];

  afterEach(async () => {
    await Promise.all(pages.splice(0).map((page) => page.close()));
    await server?.close();
    server = undefined;
    if (program) await program.stop();
    program = undefined;
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('root npm start runs examples/chat-fastify, which serves the page on PORT and exits cleanly on SIGTERM', async () => {
    const root = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(root.scripts.start).toMatch(/^npm run build && node examples\/chat-fastify\/server\.js$/);
    program = await runStartScript('chat-fastify');
    const page = await fetch(program.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>wsuite chat</title>');
    expect((await fetch(new URL('chat.js', program.url))).status).toBe(200);
    const running = program;
    program = undefined;
    expect(await running.stop()).toBe(0);
  });

  it('saves a screenshot of the demo page in use to test-artifacts/chat-demo.png', async () => {
    browser = await launchBrowser();
    server = await startChat('fastify');
    const ada = await ChatPage.open(browser, server.url);
    const bob = await ChatPage.open(browser, server.url);
    const cy = await ChatPage.open(browser, server.url);
    pages.push(ada, bob, cy);
    await ada.join('ada');
    await bob.join('bob');
    await cy.join('cy');
    await ada.waitForMembers(['ada', 'bob', 'cy']);
    await bob.say('Hi all! Is the new release out?');
    await ada.say('Yes, 0.1.0 went out this morning.');
    await cy.say('Compression is on: the browser negotiated permessage-deflate.');
    await ada.waitForMessage('cy', 'Compression is on');
    await ada.page.fill('#text', 'Restart the server and watch this page reconnect');

    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'chat-demo.png');
    await ada.page.screenshot({ path: file });
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(file).size).toBeGreaterThan(10_000);
  });
});
