/**
 * Agent pushes coalesced per socket per event-loop turn (issue 18, docs/benchmarks.md "sixth pass").
 *
 * An engine.io socket hands each packet to its transport as soon as it is queued (`sendPacket` →
 * `flush`), so a bus event that pushes a queue row, a Team-tab row and a load change to an agent made
 * three WebSocket frames, three TLS records and three `writev` system calls on that agent's connection.
 * `coalesceFlushes` defers the socket's `flush` to `setImmediate` (once per turn, however many packets
 * were queued) and corks the WebSocket's TCP/TLS socket while the transport writes them, so a turn's
 * packets leave as one write. The frames, their order and their content are unchanged (the wire
 * contract of common/socket/agent-events.ts is not touched); only their grouping into TCP writes is.
 * Latency added: until the end of the current event-loop turn (the check phase).
 */

/** The parts of an engine.io `Socket` used here (engine.io 6: `flush()`, `transport.socket` = a `ws` WebSocket with `_socket`). */
export interface EngineSocketLike {
  flush(): void;
  transport?: { socket?: { _socket?: { cork(): void; uncork(): void } } } | null;
}

/**
 * Makes `raw.flush()` run at most once per event-loop turn, at `setImmediate`, with the transport's
 * underlying socket corked around it (polling transports have none: only the deferral applies).
 * Idempotent per socket. Never throws beyond what the original `flush` throws (inside `setImmediate`).
 */
export function coalesceFlushes(raw: EngineSocketLike): void {
  const marked = raw as EngineSocketLike & { [COALESCED]?: true };
  if (marked[COALESCED]) return;
  marked[COALESCED] = true;
  const flush = raw.flush.bind(raw);
  let scheduled = false;
  const run = () => {
    scheduled = false;
    const tcp = raw.transport?.socket?._socket;
    tcp?.cork();
    try {
      flush();
    } finally {
      tcp?.uncork();
    }
  };
  raw.flush = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  };
}

const COALESCED = Symbol('huiliu.coalescedFlushes');
