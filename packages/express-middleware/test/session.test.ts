/**
 * cookie-parser and express-session run on the upgrade request before the handshake: a session
 * made over HTTP authorizes the WebSocket, and the handler reads req.cookies and req.session.
 */
import express, { type RequestHandler } from 'express';
import cookieParser from 'cookie-parser';
import session from 'express-session';
import request from 'supertest';
import { createExpressWebSocket } from '@wsuite/express-middleware';
import { open, refused, start, until, type Client, type Running } from './helpers';

declare module 'express-session' {
  interface SessionData {
    user?: string;
  }
}

const SECRET = 'test secret';

describe('cookie-parser and express-session before an accepted upgrade', () => {
  let r: Running;
  const clients: Client[] = [];

  beforeAll(async () => {
    const wsx = createExpressWebSocket();
    const app = express();
    app.use(cookieParser(SECRET));
    app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store: new session.MemoryStore() }));
    app.post('/login', (req, res) => {
      req.session.user = 'ada';
      res.send('logged in');
    });
    const requireSession: RequestHandler = (req, res, next) => {
      if (req.session.user) next();
      else res.status(401).json({ error: 'log in first' });
    };
    wsx.ws(app, '/me', requireSession, (connection, req) => {
      connection.sendUTF(JSON.stringify({ user: req.session.user, theme: req.cookies.theme, sessionID: req.sessionID }));
    });
    r = await start(wsx, app);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.ws.terminate();
  });
  afterAll(() => r.stop());

  it('refuses an upgrade without a session with the middleware 401', async () => {
    const refusal = await refused(r.url('/me'));
    expect(refusal.status).toBe(401);
    expect(JSON.parse(refusal.body)).toEqual({ error: 'log in first' });
  });

  it('accepts the upgrade with the session cookie from an HTTP login; the handler sees req.session and req.cookies', async () => {
    const login = await request(r.http).post('/login').expect(200);
    const setCookie = login.headers['set-cookie'] as unknown as string[];
    const sessionCookie = setCookie.map((line) => line.split(';')[0]).join('; ');
    expect(sessionCookie).toMatch(/^connect\.sid=/);

    const c = await open(r.url('/me'), { headers: { cookie: `${sessionCookie}; theme=dark` } });
    clients.push(c);
    await until(() => c.messages[0], 'session message');
    const seen = JSON.parse(c.messages[0]) as { user: string; theme: string; sessionID: string };
    expect(seen.user).toBe('ada');
    expect(seen.theme).toBe('dark');
    expect(decodeURIComponent(sessionCookie)).toContain(seen.sessionID);
  });
});
