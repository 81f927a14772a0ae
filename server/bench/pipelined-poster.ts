/**
 * A load generator's HTTP/1.1 client for one known server: JSON POSTs pipelined over a few TLS
 * keep-alive connections, answers matched in order (RFC 9112 §9.3.2). Node's `https.request` costs
 * the generator ~100 µs per request, half a core at 5,000 msg/s on a 2-core machine where the other
 * core belongs to the server under test; this costs a few µs. It reads only what the benchmark needs
 * (the status code) and accepts only answers framed by Content-Length, which is how Fastify answers
 * JSON; anything else is an error, not a guess.
 */
import { connect, type TLSSocket } from 'node:tls';

export interface PostAnswer {
  /** HTTP status, or 0 when the connection failed. */
  status: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Requests written ahead of their answers on one connection. Node's HTTP server resets a connection
 * that pipelines a few hundred requests at once; the rest wait here, on the client, and their wait
 * counts in their latency like a server queue would.
 */
const MAX_DEPTH = 32;

class Connection {
  /** Written, waiting for their answers in order. */
  private readonly pending: ((answer: PostAnswer) => void)[] = [];
  /** Not written yet (the connection is MAX_DEPTH deep). */
  private readonly waiting: { request: string; resolve: (answer: PostAnswer) => void }[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private failed: Error | null = null;

  constructor(private readonly socket: TLSSocket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (error: Error) => {
      this.failed ??= error;
      for (const resolve of this.pending.splice(0)) resolve({ status: 0 });
      for (const w of this.waiting.splice(0)) w.resolve({ status: 0 });
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  get load(): number {
    return this.pending.length + this.waiting.length;
  }

  send(request: string): Promise<PostAnswer> {
    if (this.failed) return Promise.resolve({ status: 0 });
    return new Promise((resolve) => {
      if (this.pending.length < MAX_DEPTH) this.write(request, resolve);
      else this.waiting.push({ request, resolve });
    });
  }

  private write(request: string, resolve: (answer: PostAnswer) => void): void {
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

/** Pipelined JSON POSTs to one origin over `connections` TLS connections, each to the least busy. */
export class PipelinedPoster {
  private constructor(
    private readonly host: string,
    private readonly connections: Connection[],
  ) {}

  /**
   * Opens the connections (TLS handshakes done before the first post).
   * @param origin `https://host:port`
   * @param caPem the only CA trusted
   */
  static async open(origin: string, caPem: string, connections: number): Promise<PipelinedPoster> {
    const url = new URL(origin);
    const sockets = await Promise.all(
      Array.from(
        { length: connections },
        () =>
          new Promise<TLSSocket>((resolve, reject) => {
            const socket = connect({ host: url.hostname, port: Number(url.port), ca: caPem }, () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    return new PipelinedPoster(
      url.host,
      sockets.map((s) => new Connection(s)),
    );
  }

  /** POSTs `body` as JSON to `path`; resolves with the status once its answer arrived. */
  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<PostAnswer> {
    const payload = JSON.stringify(body);
    let extra = '';
    for (const [k, v] of Object.entries(headers)) extra += `${k}: ${v}\r\n`;
    const request =
      `POST ${path} HTTP/1.1\r\nhost: ${this.host}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(payload)}\r\n${extra}\r\n${payload}`;
    let least = this.connections[0]!;
    for (const c of this.connections) if (c.load < least.load) least = c;
    return least.send(request);
  }

  close(): void {
    for (const c of this.connections) c.close();
  }
}
