import { open, seal, TamperError } from '../crypto/aead';

/**
 * Sealed page blocks (issue 14, DESIGN §9 "encryption keeps ≥ 70 %" on a record's first read; docs/store.md
 * "Sealed page blocks"). A conversation's message records are grouped in pages of `BLOCK_RECORDS` seqs
 * aligned on seq 1 (page k holds seqs k·50+1 … k·50+50). Beside the records, a page's **block** holds, under
 * ONE AES-256-GCM seal, each of its records' stored bytes together with that record's plaintext payload —
 * so a process reading a page it never read opens one block instead of one GCM per record.
 *
 * The records stay authoritative. A reader takes a payload from a block only when the record now stored at
 * that seq is **byte-for-byte** the record the block holds (and the block names the record's data key);
 * anything else is opened from the record itself, which answers `TamperError` for a changed byte exactly as
 * without blocks. The block's own bytes are GCM-checked: a changed byte of a block is a `TamperError` too.
 *
 * Layout (all integers big-endian):
 *
 *     1 (version) | u32 firstSeq | u16 count | u8 owner length | owner (the data key's owner, `customer:<id>`)
 *     | sealed (aead.ts: version, nonce, tag, ciphertext)
 *
 * The sealed plaintext is `count` entries `u32 record length | record | u32 payload length | payload (UTF-8
 * JSON)`, entry i being seq firstSeq + i. The AAD `blk:<conversationId>:<firstSeq>:<count>:<owner>` binds
 * the block to its conversation, its place and its key, so a block moved to another conversation or page,
 * cut short, or relabelled fails the GCM check. Blocks are sealed under the same customer data key as the
 * records, so crypto-erasure (the key destroyed) makes them unreadable with the records.
 */
export const BLOCK_V1 = 1;
/** Seqs per page (and so at most records per block). */
export const BLOCK_RECORDS = 50;

/** The page holding `seq` (seq ≥ 1). */
export const pageOf = (seq: number): number => Math.floor((seq - 1) / BLOCK_RECORDS);
/** The first seq of page `page`. */
export const pageStart = (page: number): number => page * BLOCK_RECORDS + 1;

/** What a block says of itself before it is opened (not authenticated until `openBlock` succeeds). */
export interface BlockHead {
  firstSeq: number;
  count: number;
  /** The data key's owner (`customer:<id>`). */
  owner: string;
}

/** An opened block: entry i is seq `firstSeq + i`. */
export interface OpenedBlock extends BlockHead {
  /** The records as stored when the block was sealed (views on the opened plaintext). */
  records: Buffer[];
  /** Their payloads: UTF-8 JSON (`{ body, meta }`), views on the opened plaintext. */
  payloads: Buffer[];
}

const blockAad = (conversationId: string, head: BlockHead) => `blk:${conversationId}:${head.firstSeq}:${head.count}:${head.owner}`;

/** One entry of a block's plaintext: the stored record and its plaintext payload, framed. */
export function blockEntry(record: Buffer, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + record.length + payload.length);
  out.writeUInt32BE(record.length, 0);
  record.copy(out, 4);
  out.writeUInt32BE(payload.length, 4 + record.length);
  payload.copy(out, 8 + record.length);
  return out;
}

/**
 * Seals `entries` (framed by `blockEntry`, entry i = seq firstSeq + i) into a block of `conversationId`
 * under `key` (32 bytes, the data key of `owner`). @throws RangeError for more than BLOCK_RECORDS entries,
 * a firstSeq that does not start a page, or an owner longer than 255 bytes
 */
export function sealBlock(key: Buffer, conversationId: string, head: BlockHead, entries: readonly Buffer[]): Buffer {
  if (entries.length !== head.count || head.count < 1 || head.count > BLOCK_RECORDS) throw new RangeError('block entry count');
  if ((head.firstSeq - 1) % BLOCK_RECORDS !== 0 || head.firstSeq < 1) throw new RangeError('a block starts a page');
  const owner = Buffer.from(head.owner, 'utf8');
  if (owner.length > 255) throw new RangeError('block owner too long');
  const sealed = seal(key, entries.length === 1 ? entries[0]! : Buffer.concat(entries), blockAad(conversationId, head));
  const out = Buffer.allocUnsafe(8 + owner.length + sealed.length);
  out[0] = BLOCK_V1;
  out.writeUInt32BE(head.firstSeq, 1);
  out.writeUInt16BE(head.count, 5);
  out[7] = owner.length;
  owner.copy(out, 8);
  sealed.copy(out, 8 + owner.length);
  return out;
}

/**
 * The head of a stored block, or null for a block of another (newer) version, which a reader ignores (the
 * records are read instead). @throws TamperError for a block too short to hold its head
 */
export function blockHead(block: Buffer): BlockHead | null {
  if (block.length < 8) throw new TamperError();
  if (block[0] !== BLOCK_V1) return null;
  const ownerLength = block[7]!;
  if (block.length < 8 + ownerLength) throw new TamperError();
  return { firstSeq: block.readUInt32BE(1), count: block.readUInt16BE(5), owner: block.toString('utf8', 8, 8 + ownerLength) };
}

/**
 * Opens a block of `conversationId` with the data key of its owner. @throws TamperError when any byte of
 * the block was changed (GCM), it was moved from another conversation or page, or its entries do not parse
 */
export function openBlock(key: Buffer, conversationId: string, block: Buffer, head: BlockHead): OpenedBlock {
  const ownerLength = block[7]!;
  const plain = open(key, block.subarray(8 + ownerLength), blockAad(conversationId, head));
  const records: Buffer[] = [];
  const payloads: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < head.count; i++) {
    if (at + 4 > plain.length) throw new TamperError();
    const recordLength = plain.readUInt32BE(at);
    const payloadAt = at + 4 + recordLength;
    if (payloadAt + 4 > plain.length) throw new TamperError();
    const payloadLength = plain.readUInt32BE(payloadAt);
    const end = payloadAt + 4 + payloadLength;
    if (end > plain.length) throw new TamperError();
    records.push(plain.subarray(at + 4, payloadAt));
    payloads.push(plain.subarray(payloadAt + 4, end));
    at = end;
  }
  if (at !== plain.length) throw new TamperError();
  return { ...head, records, payloads };
}
