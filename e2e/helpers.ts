/**
 * Helpers for the browser tests: Debian's Chromium through playwright-core, the three chat
 * examples started in-process on a free port, and a small driver for the chat page.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = join(__dirname, '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');

/**
 * Debian's Chromium (CI installs it with apt-get). `chromium.launch` gives every browser a fresh
 * temporary profile (user-data-dir) and removes it on close.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export type Framework = 'fastify' | 'express' | 'nestjs';
export const FRAMEWORKS: Framework[] = ['fastify', 'express', 'nestjs'];

/** A chat example running in this process. */
export interface RunningChat {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ChatOptions {
  port?: number;
  perMessageDeflate?: boolean;
}

interface Closable {
  close(): Promise<unknown>;
}
type StartFn = (options: Record<string, unknown>) => Promise<{ url: string; app?: Closable; close?: () => Promise<void> }>;

/** Start one framework's chat example (its exported start function) on 127.0.0.1. */
export async function startChat(framework: Framework, { port = 0, perMessageDeflate = true }: ChatOptions = {}): Promise<RunningChat> {
  const options = { port, host: '127.0.0.1', perMessageDeflate, logger: false };
  let started: Awaited<ReturnType<StartFn>>;
  if (framework === 'nestjs') {
    // The Nest example is TypeScript: `npm run build` compiles it to dist/.
    const { bootstrap } = require(join(ROOT, 'examples/chat-nestjs/dist/main.js')) as { bootstrap: StartFn };
    started = await bootstrap(options);
  } else {
    const { start } = require(join(ROOT, `examples/chat-${framework}/server.js`)) as { start: StartFn };
    started = await start(options);
  }
  const close = started.close ?? (() => started.app!.close().then(() => undefined));
  return { url: started.url, port: Number(new URL(started.url).port), close };
}

/** One browser tab on the chat page. */
export class ChatPage {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  /** A new browser context (its own cookies and storage: another user) with the page loaded and connected. */
  static async open(browser: Browser, url: string): Promise<ChatPage> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 680 } });
    const page = await context.newPage();
    await page.goto(url);
    const chat = new ChatPage(context, page);
    await chat.waitForState('open');
    return chat;
  }

  async join(nick: string, room = 'lobby'): Promise<void> {
    await this.page.fill('#nick', nick);
    await this.page.fill('#room', room);
    await this.page.click('#join');
    await this.page.locator('#room-name', { hasText: `#${room}` }).waitFor();
    await this.page.locator('#text:enabled').waitFor();
  }

  async say(text: string): Promise<void> {
    await this.page.fill('#text', text);
    await this.page.click('#send');
  }

  /** Wait until a chat line from `nick` with `text` is shown. */
  async waitForMessage(nick: string, text: string): Promise<void> {
    await this.page.locator('#messages li', { has: this.page.locator('.nick', { hasText: nick }), hasText: text }).first().waitFor();
  }

  /** Wait until the member list is exactly `nicks` (sorted). */
  async waitForMembers(nicks: string[]): Promise<void> {
    await this.page.waitForFunction((expected) => {
      const shown = [...document.querySelectorAll('#members li')].map((li) => li.textContent);
      return JSON.stringify(shown) === JSON.stringify(expected);
    }, [...nicks].sort());
  }

  async members(): Promise<string[]> {
    return this.page.locator('#members li').allTextContents();
  }

  /** Wait for the connection state the page shows (`open`, `reconnecting`, ...). */
  async waitForState(state: string): Promise<void> {
    await this.page.locator(`#state[data-state="${state}"]`).waitFor();
  }

  /** What the page's debug handle says (window.chat). */
  async debug(): Promise<{ state: string; opens: number; errors: string[]; readyState: number; extensions: string }> {
    return this.page.evaluate(() => {
      const chat = window.chat;
      return { state: chat.state, opens: chat.opens, errors: [...chat.errors], readyState: chat.socket.readyState, extensions: chat.socket.extensions };
    });
  }

  /** Wait until the page has received more than `count` error events. */
  async waitForMoreErrorsThan(count: number): Promise<void> {
    await this.page.waitForFunction((seen) => window.chat.errors.length > seen, count);
  }

  /** Send a frame as it is (to test the server's checks); binary when given an array of bytes. */
  async sendRaw(frame: string | number[]): Promise<void> {
    await this.page.evaluate((data) => window.chat.sendRaw(typeof data === 'string' ? data : new Uint8Array(data)), frame);
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

// The page's debug handle, as the browser code in page.evaluate() sees it.
interface ChatDebugHandle {
  state: string;
  opens: number;
  errors: string[];
  socket: { readyState: number; extensions: string };
  sendRaw(data: string | Uint8Array): void;
}
declare const window: { chat: ChatDebugHandle };
declare const document: { querySelectorAll(selector: string): Iterable<{ textContent: string | null }> };

/** A program started like its `npm start` script, with `PORT=0`, until it printed its URL. */
export interface RunningProgram {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM, then the exit code (null when killed by a signal). */
  stop(): Promise<number | null>;
}

/** Run `examples/<name>`'s start script (`node <file>`) and wait for the http:// URL it prints. */
export function runStartScript(name: string, env: Record<string, string> = {}): Promise<RunningProgram> {
  const dir = join(ROOT, 'examples', name);
  const script = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const [command, ...args] = script.split(' ');
  if (command !== 'node') throw new Error(`Unexpected start script in ${name}: ${script}`);
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /(http:\/\/[^\s/]+\/)/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (more: Buffer) => (output += more.toString()));
        resolve({
          child,
          url: match[1],
          output: () => output,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`${name} exited with ${code} before printing its URL:\n${output}`)));
  });
}

/** Run a program to its end; resolves with its exit code and output. */
export function runToEnd(file: string, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [file, ...args], { cwd: join(file, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}
