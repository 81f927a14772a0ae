/**
 * A load generator's HTTP/1.1 client for one known server: JSON POSTs over a pool of TLS keep-alive
 * connections, one request at a time on each (an app server's connection pool). Node's
 * `https.request` costs the generator ~100 µs per request, half a core at 5,000 msg/s on a 2-core
 * machine where the other core belongs to the server under test; this costs a few µs. It reads only
 * what the benchmark needs (the status code) and accepts only answers framed by Content-Length, which
 * is how Fastify answers JSON; anything else is an error, not a guess.
 *
 * Not pipelined: Node's HTTP server pauses its parser when pipelined answers back up and then closes
 * the connection on the resulting HPE_PAUSED "parse error" (seen here with NODE_DEBUG=http), losing
 * the requests it held.
 */
import { connect, type ConnectionOptions } from 'node:tls';

export interface PostAnswer {
  /** HTTP status, or 0 when the connection failed before the answer came. */
  status: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Requests in flight on one connection. The rest wait here, on the client, and their wait counts in
 * their latency like a server queue would.
 */
const MAX_DEPTH = 1;

type Resolve = (answer: PostAnswer) => void;

class Connection {
  /** Written, waiting for their answers (in order). */
  private readonly pending: Resolve[] = [];
  /** Not written yet (the connection is busy). */
  private readonly waiting: { request: string; resolve: Resolve }[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  /** Closed or failed; the requests it held were answered with status 0. */
  closed = false;
  readonly ready: Promise<void>;
  private readonly socket;

  constructor(options: ConnectionOptions) {
    // Writes before the handshake completes are queued by the socket.
    this.socket = connect(options);
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('secureConnect', () => resolve());
      this.socket.once('error', reject);
    });
    this.ready.catch(() => undefined);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = () => {
      this.closed = true;
      for (const resolve of this.pending.splice(0)) resolve({ status: 0 });
      for (const w of this.waiting.splice(0)) w.resolve({ status: 0 });
    };
    this.socket.on('error', fail);
    this.socket.on('close', fail);
  }

  send(request: string): Promise<PostAnswer> {
    if (this.closed) return Promise.resolve({ status: 0 });
    return new Promise((resolve) => {
      if (this.pending.length < MAX_DEPTH) this.write(request, resolve);
      else this.waiting.push({ request, resolve });
    });
  }

  private write(request: string, resolve: Resolve): void {
    this.pending.push(resolve);
    this.socket.write(request);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) return;
      const head = this.buffer.toString('latin1', 0, end);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!length) {
        this.socket.destroy(new Error(`an answer without Content-Length: ${head.slice(0, 200)}`));
        return;
      }
      const total = end + HEADER_END.length + Number(length[1]);
      if (this.buffer.length < total) return;
      const status = Number(head.slice(9, 12));
      this.buffer = this.buffer.subarray(total);
      this.pending.shift()?.({ status });
      const next = this.waiting.shift();
      if (next) this.write(next.request, next.resolve);
    }
  }

  close(): void {
    this.socket.end();
  }
}

/**
 * JSON POSTs to one origin over a pool of TLS keep-alive connections, taken in turn so every one
 * stays in use. A connection the server closed (its keep-alive timeout after a quiet spell) is replaced on
 * its next turn; requests it held when it closed are answered with status 0, i.e. lost.
 */
export class KeepAlivePoster {
  private turn = 0;

  private constructor(
    private readonly options: ConnectionOptions,
    private readonly host: string,
    private readonly connections: Connection[],
  ) {}

  /**
   * Opens `connections` connections, TLS handshakes done before the first post.
   * @param origin `https://host:port`
   * @param caPem the only CA trusted
   * @throws when a connection cannot be opened
   */
  static async open(origin: string, caPem: string, connections: number): Promise<KeepAlivePoster> {
    const url = new URL(origin);
    const options: ConnectionOptions = { host: url.hostname, port: Number(url.port), ca: caPem };
    const opened = Array.from({ length: connections }, () => new Connection(options));
    await Promise.all(opened.map((c) => c.ready));
    return new KeepAlivePoster(options, url.host, opened);
  }

  /** POSTs `body` as JSON to `path`; resolves with the status once its answer arrived. */
  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<PostAnswer> {
    const payload = JSON.stringify(body);
    let extra = '';
    for (const [k, v] of Object.entries(headers)) extra += `${k}: ${v}\r\n`;
    const request =
      `POST ${path} HTTP/1.1\r\nhost: ${this.host}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(payload)}\r\n${extra}\r\n${payload}`;
    const i = this.turn++ % this.connections.length;
    if (this.connections[i]!.closed) this.connections[i] = new Connection(this.options);
    return this.connections[i]!.send(request);
  }

  close(): void {
    for (const c of this.connections) c.close();
  }
}
