/**
 * Reading the RTP packets of a call out of a pcap file that is still being written (rtpengine's
 * `--recording-method=pcap`, docs/voice.md "Live transcripts"). Formats: libpcap classic
 * (https://www.tcpdump.org/manpages/pcap-savefile.5.html, both byte orders, µs or ns stamps) with
 * link types 101 (raw IP, rtpengine's `recording-format=raw`), 1 (Ethernet, `eth`) and 113 (Linux
 * cooked); IPv4 and IPv6 without extension headers; UDP; RTP per RFC 3550 §5.1.
 */

/** One RTP packet as recorded: where it came from and went, and its RTP header fields and payload. */
export interface RecordedRtp {
  /** Capture time, seconds since the epoch. */
  at: number;
  src: { address: string; port: number };
  dst: { address: string; port: number };
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Buffer;
}

const LINK_RAW = 101;
const LINK_ETHERNET = 1;
const LINK_SLL = 113;

/**
 * An incremental pcap reader: `push` the file's bytes as they grow (any chunking, a record may be cut
 * anywhere), and each complete record that holds an RTP packet is returned. Non-RTP records (RTCP on
 * the same socket, other protocols, fragments) are skipped.
 * @throws Error `not a pcap file` when the first 24 bytes are not a pcap global header
 */
export class PcapRtpReader {
  private buffer: Buffer = Buffer.alloc(0);
  private little = true;
  private nanos = false;
  private linkType = -1;
  /** Records read, RTP or not. */
  records = 0;

  push(chunk: Buffer): RecordedRtp[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: RecordedRtp[] = [];
    let at = 0;
    if (this.linkType < 0) {
      if (this.buffer.length < 24) return out;
      const magic = this.buffer.readUInt32LE(0);
      if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.little = true;
      else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) this.little = false;
      else throw new Error('not a pcap file');
      this.nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
      this.linkType = this.u32(20) & 0x0fffffff;
      at = 24;
    }
    while (at + 16 <= this.buffer.length) {
      const caplen = this.u32(at + 8);
      if (at + 16 + caplen > this.buffer.length) break;
      const seconds = this.u32(at) + this.u32(at + 4) / (this.nanos ? 1e9 : 1e6);
      const packet = rtpOf(this.buffer.subarray(at + 16, at + 16 + caplen), this.linkType, seconds);
      if (packet) out.push(packet);
      this.records++;
      at += 16 + caplen;
    }
    this.buffer = this.buffer.subarray(at);
    return out;
  }

  private u32(at: number): number {
    return this.little ? this.buffer.readUInt32LE(at) : this.buffer.readUInt32BE(at);
  }
}

function rtpOf(frame: Buffer, linkType: number, at: number): RecordedRtp | null {
  let ip = 0;
  if (linkType === LINK_ETHERNET) {
    if (frame.length < 14) return null;
    let type = frame.readUInt16BE(12);
    ip = 14;
    if (type === 0x8100 && frame.length >= 18) {
      type = frame.readUInt16BE(16);
      ip = 18;
    }
    if (type !== 0x0800 && type !== 0x86dd) return null;
  } else if (linkType === LINK_SLL) {
    ip = 16;
  } else if (linkType !== LINK_RAW) return null;
  if (frame.length < ip + 20) return null;
  const version = frame[ip]! >> 4;
  let udp: number;
  let src: string;
  let dst: string;
  if (version === 4) {
    const ihl = (frame[ip]! & 0x0f) * 4;
    if (frame[ip + 9] !== 17) return null;
    // A fragment (MF set or an offset): not one whole datagram.
    if ((frame.readUInt16BE(ip + 6) & 0x3fff) !== 0) return null;
    src = [...frame.subarray(ip + 12, ip + 16)].join('.');
    dst = [...frame.subarray(ip + 16, ip + 20)].join('.');
    udp = ip + ihl;
  } else if (version === 6) {
    if (frame.length < ip + 40 || frame[ip + 6] !== 17) return null;
    const hex = (b: Buffer) => Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
    src = hex(frame.subarray(ip + 8, ip + 24));
    dst = hex(frame.subarray(ip + 24, ip + 40));
    udp = ip + 40;
  } else return null;
  if (frame.length < udp + 8 + 12) return null;
  const srcPort = frame.readUInt16BE(udp);
  const dstPort = frame.readUInt16BE(udp + 2);
  const udpEnd = Math.min(frame.length, udp + frame.readUInt16BE(udp + 4));
  const rtp = frame.subarray(udp + 8, udpEnd);
  if (rtp.length < 12 || rtp[0]! >> 6 !== 2) return null;
  const payloadType = rtp[1]! & 0x7f;
  // RTCP shares the port under rtcp-mux (RFC 5761 §4: packet types 192–223 land on PT 64–95).
  if (payloadType >= 64 && payloadType <= 95) return null;
  const csrcs = rtp[0]! & 0x0f;
  let header = 12 + 4 * csrcs;
  if (rtp[0]! & 0x10) {
    if (rtp.length < header + 4) return null;
    header += 4 + 4 * rtp.readUInt16BE(header + 2);
  }
  let end = rtp.length;
  if (rtp[0]! & 0x20) end -= rtp[rtp.length - 1]!;
  if (header > end) return null;
  return {
    at,
    src: { address: src, port: srcPort },
    dst: { address: dst, port: dstPort },
    payloadType,
    sequence: rtp.readUInt16BE(2),
    timestamp: rtp.readUInt32BE(4),
    ssrc: rtp.readUInt32BE(8),
    marker: (rtp[1]! & 0x80) !== 0,
    payload: Buffer.from(rtp.subarray(header, end)),
  };
}

/**
 * A pcap file (link type 101, raw IPv4) of RTP packets, for tests and tools: each packet with its
 * IPv4/UDP headers (checksums 0) and a 20 ms clock from `startSeconds`.
 */
export function buildRtpPcap(
  packets: readonly {
    src: [string, number];
    dst: [string, number];
    payloadType: number;
    sequence: number;
    timestamp: number;
    ssrc: number;
    payload: Buffer;
  }[],
  startSeconds = 1_700_000_000,
): Buffer {
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(LINK_RAW, 20);
  const parts = [global];
  packets.forEach((p, i) => {
    const rtp = Buffer.alloc(12 + p.payload.length);
    rtp[0] = 0x80;
    rtp[1] = p.payloadType & 0x7f;
    rtp.writeUInt16BE(p.sequence & 0xffff, 2);
    rtp.writeUInt32BE(p.timestamp >>> 0, 4);
    rtp.writeUInt32BE(p.ssrc >>> 0, 8);
    p.payload.copy(rtp, 12);
    const ip = Buffer.alloc(28);
    ip[0] = 0x45;
    ip.writeUInt16BE(28 + rtp.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    p.src[0].split('.').forEach((o, k) => (ip[12 + k] = Number(o)));
    p.dst[0].split('.').forEach((o, k) => (ip[16 + k] = Number(o)));
    ip.writeUInt16BE(p.src[1], 20);
    ip.writeUInt16BE(p.dst[1], 22);
    ip.writeUInt16BE(8 + rtp.length, 24);
    const record = Buffer.alloc(16);
    const t = startSeconds + i * 0.02;
    record.writeUInt32LE(Math.floor(t), 0);
    record.writeUInt32LE(Math.round((t % 1) * 1e6) % 1_000_000, 4);
    record.writeUInt32LE(ip.length + rtp.length, 8);
    record.writeUInt32LE(ip.length + rtp.length, 12);
    parts.push(record, ip, rtp);
  });
  return Buffer.concat(parts);
}
