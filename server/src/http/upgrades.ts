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

  /**
   * Listens for upgrades on `server`. Node's HTTP server takes its own 'error' listener off a socket
   * when it hands it over for an upgrade; a reset (ECONNRESET) on a socket with no listener would end
   * the process, so every upgrade socket gets one here first (issue 6 A1). `onError` only reports.
   */
  attach(server: Pick<Server, 'on'>, onError: (error: Error) => void = () => undefined): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', onError);
      try {
        // A URL that does not parse is a 404 like any unknown path.
        const path = URL.canParse(req.url ?? '/', 'https://localhost') ? new URL(req.url ?? '/', 'https://localhost').pathname : '';
        const handler = this.routes.get(path);
        if (handler) return handler(req, socket, head);
        if (this.passThrough.some((p) => path.startsWith(p))) return;
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      } catch (error) {
        onError(error as Error);
        socket.destroy();
      }
    });
  }

  route(path: string, handler: UpgradeHandler): void {
    this.routes.set(path, handler);
  }

  leaveTo(prefix: string): void {
    this.passThrough.push(prefix);
  }
}
