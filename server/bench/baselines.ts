/**
 * The bare baselines the benchmark compares Huiliu with, each a process of its own (run.ts forks
 * this file with the mode as its argument), on loopback, with the same certificate and TLS 1.3 as
 * the server under test. It answers `{ type: 'listening', port }` over IPC and runs until killed.
 *
 *   ws-echo        `ws` over TLS on the widget path: a hello gets a welcome frame, a message frame an
 *                  ack frame of the widget protocol's shape (JSON parse + stringify, one per message).
 *   ws-sealed      the same, but the ack waits until the message is durable: AES-256-GCM sealed,
 *                  inserted with raw better-sqlite3 (WAL, synchronous=FULL), writes of one turn of the
 *                  event loop grouped in one transaction like server/src/db/group-commit.ts — the
 *                  "fair" baseline: Huiliu's durability promise at the least it can cost.
 *   socketio-push  Fastify over TLS with a socket.io `/agent` namespace: `POST /push` emits the posted
 *                  text as a queue row's preview to every connected socket.
 *
 * Environment: BENCH_TLS_DIR (server.pem, server-key.pem, ca.pem as ensureTlsMaterial writes them),
 * BENCH_DB (ws-sealed: the database file to create).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { Server } from 'socket.io';
import { WebSocketServer, type WebSocket } from 'ws';
import { WIDGET_PATH } from '../../common/web/widget-protocol';
import { sealText } from '../src/crypto/aead';

export type BaselineMode = 'ws-echo' | 'ws-sealed' | 'socketio-push';

const tlsDir = process.env.BENCH_TLS_DIR!;
const read = (f: string) => readFileSync(join(tlsDir, f), 'utf8');
const tls = {
  cert: read('server.pem') + read('ca.pem'),
  key: read('server-key.pem'),
  minVersion: 'TLSv1.3' as const,
  maxVersion: 'TLSv1.3' as const,
};

/** A durable sealed insert per message, committed in groups; resolves once its group is on disk. */
function sealedStore(path: string): { open(conversationId: string): void; append(conversationId: string, text: string): Promise<number> } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE conv (id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
    CREATE TABLE msg (id TEXT PRIMARY KEY, conv TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, UNIQUE (conv, seq));`);
  const create = db.prepare('INSERT OR IGNORE INTO conv VALUES (?, 0)');
  const next = db.prepare('UPDATE conv SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq');
  const insert = db.prepare('INSERT INTO msg (id, conv, seq, body) VALUES (?, ?, ?, ?)');
  const key = randomBytes(32);
  const write = (conversationId: string, text: string): number => {
    const id = randomUUID();
    const { last_seq } = next.get(conversationId) as { last_seq: number };
    insert.run(id, conversationId, last_seq, sealText(key, JSON.stringify({ text }), `msg:${id}:body`));
    return last_seq;
  };
  let queue: { conversationId: string; text: string; resolve: (seq: number) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const batch = queue.slice(0, 256);
    queue = queue.slice(256);
    if (queue.length) setImmediate(flush);
    try {
      const seqs = db.transaction(() => batch.map((j) => write(j.conversationId, j.text))).immediate();
      batch.forEach((j, i) => j.resolve(seqs[i]!));
    } catch (error) {
      for (const j of batch) j.reject(error);
    }
  };
  return {
    open: (conversationId) => void create.run(conversationId),
    append: (conversationId, text) =>
      new Promise((resolve, reject) => {
        if (queue.push({ conversationId, text, resolve, reject }) === 1) setImmediate(flush);
      }),
  };
}

async function widgetBaseline(durable: boolean): Promise<number> {
  const store = durable ? sealedStore(process.env.BENCH_DB!) : null;
  const server = createServer(tls);
  const wss = new WebSocketServer({ server, path: WIDGET_PATH, maxPayload: 64 * 1024 });
  let seq = 0;
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => undefined);
    const sessionId = randomUUID();
    const conversationId = randomUUID();
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { type: string; clientMessageId?: string; text?: string };
      if (frame.type === 'hello') {
        store?.open(conversationId);
        ws.send(
          JSON.stringify({ type: 'welcome', visitorToken: randomUUID(), sessionId: null, conversationId: null, heartbeatMs: 30_000 }),
        );
        return;
      }
      if (frame.type !== 'message') return;
      const ack = (s: number) =>
        ws.send(
          JSON.stringify({
            type: 'ack',
            clientMessageId: frame.clientMessageId,
            messageId: randomUUID(),
            seq: s,
            sessionId,
            conversationId,
            receivedAt: new Date().toISOString(),
          }),
        );
      if (store) void store.append(conversationId, frame.text ?? '').then(ack);
      else ack(++seq);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function socketIoBaseline(): Promise<number> {
  let https: HttpsServer | undefined;
  const app = Fastify({ serverFactory: (handler) => (https = createServer(tls, handler)) });
  const io = new Server(https!, { serveClient: false });
  const nsp = io.of('/agent');
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.post('/push', async (request, reply) => {
    nsp.emit('queue:upsert', { lastMessagePreview: (request.body as { text: string }).text });
    return reply.status(202).send({ ok: true });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (https!.address() as { port: number }).port;
}

const mode = process.argv[2] as BaselineMode;
const port = mode === 'socketio-push' ? await socketIoBaseline() : await widgetBaseline(mode === 'ws-sealed');
process.send!({ type: 'listening', port });
