/**
 * The other examples run as programs, started by their own start scripts: each chat example
 * serves the page, echo-core echoes through core's client, client-node runs to completion.
 */
import { join } from 'node:path';
import { W3CWebSocket } from '@wsuite/core';
import { ROOT, runStartScript, runToEnd, type RunningProgram } from './helpers';

describe('examples as programs', () => {
  let program: RunningProgram | undefined;
  afterEach(async () => {
    if (program) await program.stop();
    program = undefined;
  });

  it.each(['chat-fastify', 'chat-express', 'chat-nestjs'])('%s: the start script serves the chat page and stops cleanly on SIGTERM', async (name) => {
    program = await runStartScript(name);
    const response = await fetch(program.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<script src="chat.js"></script>');
    const running = program;
    program = undefined;
    expect(await running.stop()).toBe(0);
  });

  it('echo-core: the start script serves an echo endpoint that core\'s W3CWebSocket talks to', async () => {
    program = await runStartScript('echo-core');
    const ws = new W3CWebSocket(`${program.url.replace('http', 'ws')}echo`, 'echo-protocol');
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.onerror = () => reject(new Error('connection failed'));
      ws.onopen = () => ws.send('ping?');
      ws.onmessage = (event) => resolve(String(event.data));
    });
    expect(echoed).toBe('ping?');
    expect(ws.protocol).toBe('echo-protocol');
    await new Promise((resolve) => {
      ws.onclose = resolve;
      ws.close();
    });
  });

  it('client-node: WebSocketClient and W3CWebSocket talk to an echo server with permessage-deflate and exit 0', async () => {
    const { code, output } = await runToEnd(join(ROOT, 'examples/client-node/client.js'));
    expect(output).toContain('[WebSocketClient] connected, protocol echo-protocol, extensions: permessage-deflate');
    expect(output).toContain('[WebSocketClient] text echo: hello from WebSocketClient');
    expect(output).toContain('[WebSocketClient] binary echo: deadbeef');
    expect(output).toContain('[W3CWebSocket] open, protocol echo-protocol, extensions: permessage-deflate');
    expect(output).toContain('[W3CWebSocket] echo: hello from W3CWebSocket');
    expect(output).toContain('[W3CWebSocket] closed: 1000 done');
    expect(code).toBe(0);
  });

  it('client-node: talks to a running echo-core server given on the command line', async () => {
    program = await runStartScript('echo-core');
    const { code, output } = await runToEnd(join(ROOT, 'examples/client-node/client.js'), [`${program.url.replace('http', 'ws')}echo`]);
    expect(output).not.toContain('[server]');
    expect(output).toContain('[WebSocketClient] text echo: hello from WebSocketClient');
    expect(output).toContain('[W3CWebSocket] echo: hello from W3CWebSocket');
    expect(code).toBe(0);
  });
});
