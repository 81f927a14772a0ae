import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * One owner for WebSocket upgrades on the HTTPS server: each path goes to exactly one handler, so
 * two WebSocket stacks never answer the same upgrade (which corrupts frames). Prefixes left to a
 * stack that listens for itself (socket.io) are passed over; anything else gets a 404.
 */
export class UpgradeRouter {
  private readonly routes = new Map<string, UpgradeHandler>();
  private readonly passThrough: string[] = [];

  attach(server: Pick<Server, 'on'>): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(req.url ?? '/', 'https://localhost').pathname;
      const handler = this.routes.get(path);
      if (handler) return handler(req, socket, head);
      if (this.passThrough.some((p) => path.startsWith(p))) return;
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  }

  route(path: string, handler: UpgradeHandler): void {
    this.routes.set(path, handler);
  }

  leaveTo(prefix: string): void {
    this.passThrough.push(prefix);
  }
}
