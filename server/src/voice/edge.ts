import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Where the voice edge listens, as `npm run voice -- up` wrote it (`<HUILIU_DATA_DIR>/voice/edge.json`). */
export interface VoiceEdge {
  domain: string;
  /** `sip:host:port` (UDP/TCP) and `ws://host:port` / `wss://host:port` (JsSIP). */
  uris: string[];
  /** rtpengine's recording spool (pcaps/, tmp/, metadata/), which the media tap reads; absent without rtpengine. */
  recordings?: string;
  /** rtpengine's ng control address (`host:port`, UDP): the queue announcement plays through it; absent without rtpengine. */
  rtpengine?: string;
  /** The queue announcements (WAV files rtpengine reads), by language. */
  queuePrompts?: { en?: string; zh?: string };
}

const EdgeSchema = z.object({
  domain: z.string().min(1).max(255),
  uris: z.array(z.string().max(255)).max(8),
  recordings: z.string().min(1).max(4096).optional(),
  rtpengine: z
    .string()
    .regex(/^[\w.:[\]-]+:\d{1,5}$/)
    .optional(),
  queuePrompts: z.object({ en: z.string().min(1).max(4096).optional(), zh: z.string().min(1).max(4096).optional() }).optional(),
});

export const voiceEdgePath = (dataDir: string) => join(dataDir, 'voice', 'edge.json');

/**
 * Reads the edge file when it changed (the server may start before or after `npm run voice -- up`).
 * Without one (no edge started yet): `fallback`, the server's own host as the domain and no URIs.
 */
export function voiceEdgeReader(dataDir: string, fallback: VoiceEdge): () => VoiceEdge {
  const path = voiceEdgePath(dataDir);
  let seen = -1;
  let edge = fallback;
  return () => {
    let mtime: number;
    try {
      // No file (no edge started): no exception made and thrown on every look (issue 18).
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) return fallback;
      mtime = stat.mtimeMs;
    } catch {
      return fallback;
    }
    if (mtime !== seen) {
      seen = mtime;
      let raw: unknown = null;
      try {
        raw = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        // Half written or removed between the stat and the read: the fallback until it settles.
      }
      const parsed = EdgeSchema.safeParse(raw);
      edge = parsed.success ? parsed.data : fallback;
    }
    return edge;
  };
}
