import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/**
 * A client of rtpengine's ng control protocol (bencode over UDP: `<cookie> <bencoded dictionary>`, the
 * answer echoes the cookie). Kamailio's rtpengine module speaks it for offers and answers; the server
 * uses it for what Kamailio cannot do from a queued call's transaction — play the queue announcement
 * (docs/voice.md "Queue announcement").
 */

/** A bencode value as rtpengine's ng protocol uses them: strings (SDP included), integers, lists, dictionaries. */
export type Bencode = string | number | Bencode[] | { [key: string]: Bencode };

/** Bencodes a value (BEP 3): strings by their UTF-8 byte length, dictionary keys sorted. */
export function bencode(value: Bencode): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`bencode: ${value} is not an integer`);
    return Buffer.from(`i${value}e`);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  const keys = Object.keys(value).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(value[k]!)]), Buffer.from('e')]);
}

/**
 * Decodes one bencoded value from `data` starting at `offset`.
 * @throws Error naming the offset when the input is not bencode (truncated, bad length, stray byte)
 */
export function bdecode(data: Buffer, offset = 0): { value: Bencode; end: number } {
  const at = data[offset];
  if (at === undefined) throw new Error(`bencode: truncated at ${offset}`);
  const c = String.fromCharCode(at);
  if (c === 'i') {
    const end = data.indexOf('e', offset);
    const n = Number(data.subarray(offset + 1, end).toString('latin1'));
    if (end < 0 || !Number.isInteger(n)) throw new Error(`bencode: bad integer at ${offset}`);
    return { value: n, end: end + 1 };
  }
  if (c === 'l' || c === 'd') {
    let i = offset + 1;
    const list: Bencode[] = [];
    while (data[i] !== 0x65 /* e */) {
      if (i >= data.length) throw new Error(`bencode: unterminated ${c === 'l' ? 'list' : 'dictionary'} at ${offset}`);
      const item = bdecode(data, i);
      list.push(item.value);
      i = item.end;
    }
    if (c === 'l') return { value: list, end: i + 1 };
    const dict: Record<string, Bencode> = {};
    for (let k = 0; k + 1 < list.length; k += 2) dict[String(list[k])] = list[k + 1]!;
    return { value: dict, end: i + 1 };
  }
  const colon = data.indexOf(':', offset);
  const length = Number(data.subarray(offset, colon).toString('latin1'));
  if (colon < 0 || !Number.isInteger(length) || length < 0 || colon + 1 + length > data.length)
    throw new Error(`bencode: bad string at ${offset}`);
  return { value: data.subarray(colon + 1, colon + 1 + length).toString('utf8'), end: colon + 1 + length };
}

/** An ng answer: `result` is `ok` (or `pong`); `error` answers carry `error-reason`. */
export type NgAnswer = Record<string, Bencode> & { result?: Bencode };

export interface NgClient {
  /**
   * Sends one command (`command` plus its arguments) and resolves with rtpengine's answer dictionary.
   * @throws Error on a time-out (`timeoutMs`, default 2,000) or an `error` result (with its reason)
   */
  request(command: Record<string, Bencode> & { command: string }): Promise<NgAnswer>;
  close(): void;
}

/** An ng client for rtpengine at `host:port` (its `listen-ng`), one UDP socket for all requests. */
export function createNgClient(host: string, port: number, options: { timeoutMs?: number } = {}): NgClient {
  const timeoutMs = options.timeoutMs ?? 2000;
  const waiting = new Map<string, { resolve: (a: NgAnswer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let socket: Socket | null = null;
  const open = () => {
    if (socket) return socket;
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg) => {
      const space = msg.indexOf(0x20);
      if (space < 0) return;
      const cookie = msg.subarray(0, space).toString('latin1');
      const entry = waiting.get(cookie);
      if (!entry) return;
      waiting.delete(cookie);
      clearTimeout(entry.timer);
      try {
        const { value } = bdecode(msg, space + 1);
        if (typeof value !== 'object' || Array.isArray(value)) throw new Error('rtpengine ng: the answer is not a dictionary');
        const answer = value as NgAnswer;
        if (answer.result === 'error') entry.reject(new Error(`rtpengine ng: ${String(answer['error-reason'] ?? 'error')}`));
        else entry.resolve(answer);
      } catch (error) {
        entry.reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    s.on('error', (error) => {
      for (const [cookie, entry] of waiting) {
        clearTimeout(entry.timer);
        entry.reject(error);
        waiting.delete(cookie);
      }
    });
    s.unref();
    socket = s;
    return s;
  };
  return {
    request(command) {
      const s = open();
      const cookie = randomBytes(8).toString('hex');
      return new Promise<NgAnswer>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(cookie);
          reject(new Error(`rtpengine ng: no answer to ${command.command} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(cookie, { resolve, reject, timer });
        s.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(command)]), port, host);
      });
    },
    close() {
      for (const entry of waiting.values()) {
        clearTimeout(entry.timer);
        entry.reject(new Error('rtpengine ng: client closed'));
      }
      waiting.clear();
      socket?.close();
      socket = null;
    },
  };
}

/**
 * One ng client for the edge's rtpengine at its current address (`host:port`, IPv6 in brackets): made
 * on first use by `make` (default `createNgClient`), kept while the address stays the same, closed and
 * made again when it changes (the edge restarted elsewhere). `close` closes the one held.
 */
export function ngClientForAddress(make: (host: string, port: number) => NgClient = createNgClient): {
  clientFor(address: string): NgClient;
  close(): void;
} {
  let ng: { address: string; client: NgClient } | null = null;
  return {
    clientFor(address) {
      if (ng?.address === address) return ng.client;
      ng?.client.close();
      const colon = address.lastIndexOf(':');
      const client = make(address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1)));
      ng = { address, client };
      return client;
    },
    close() {
      ng?.client.close();
      ng = null;
    },
  };
}
