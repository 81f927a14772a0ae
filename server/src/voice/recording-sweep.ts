import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging/logger';

/**
 * The spool sweep of rtpengine's call recordings (issue 18, docs/voice.md "Live transcripts"). rtpengine
 * records every anchored call (`record-call=yes`) as a pcap in its spool; the call's media tap deletes
 * the recording when the call ends. A recording no tap deletes — calls up while the server restarted
 * (their tap died with the process), calls on a server without ASR (no tap at all), a tap that failed —
 * stays there with the caller's voice in it. The sweep deletes every spool file nothing has written
 * to for `idleMs`: a call in progress writes its pcap continuously (rtpengine flushes every ~4 KB), and
 * a file an open tap still reads stays readable through its open handle after the unlink (POSIX).
 */

/** The spool's subdirectories that hold a call's files (`pcaps/`, `metadata/`, `tmp/`). */
const SPOOL_DIRS = ['pcaps', 'metadata', 'tmp'] as const;
/** Default: a recording untouched for 30 minutes belongs to no running call. */
export const RECORDING_IDLE_MS = 30 * 60_000;
/** Default: the spool is swept every 5 minutes (and once at start). */
export const RECORDING_SWEEP_MS = 5 * 60_000;

/**
 * Deletes the files of `spool`'s `pcaps/`, `metadata/` and `tmp/` whose modification time is more
 * than `idleMs` (ms) before `now` (ms since the epoch). Missing directories, files that vanish meanwhile
 * (a tap deleted them) and entries that are not plain files are skipped. Never rejects.
 * @returns how many files were deleted and how many could not be (logged by errno code, no names:
 *   a file name carries the call's Call-ID)
 */
export async function sweepRecordings(
  spool: string,
  options: { idleMs?: number; now?: number; logger?: Logger } = {},
): Promise<{ deleted: number; failed: number }> {
  const cutoff = (options.now ?? Date.now()) - (options.idleMs ?? RECORDING_IDLE_MS);
  let deleted = 0;
  let failed = 0;
  for (const sub of SPOOL_DIRS) {
    const dir = join(spool, sub);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(dir, name);
      try {
        const st = await stat(path);
        if (!st.isFile() || st.mtimeMs >= cutoff) continue;
        await unlink(path);
        deleted += 1;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        failed += 1;
        options.logger?.warn({ code }, 'an idle call recording could not be deleted from the media spool');
      }
    }
  }
  return { deleted, failed };
}

/**
 * Sweeps the spool of the edge that is running (`recordingDir()`, read at every pass; null: no edge
 * records) once now and every `intervalMs` (default `RECORDING_SWEEP_MS`), one pass at a time, with
 * `sweepRecordings`'s `idleMs`. Passes that delete something are logged with the count.
 * @returns `stop()` (clears the timer) and `sweep()` (one pass now, for tests and shutdown)
 */
export function startRecordingSweeper(options: {
  recordingDir: () => string | null | undefined;
  logger: Logger;
  idleMs?: number;
  intervalMs?: number;
}): { sweep(): Promise<number>; stop(): void } {
  let running: Promise<number> | null = null;
  const sweep = (): Promise<number> =>
    (running ??= (async () => {
      const dir = options.recordingDir();
      if (!dir) return 0;
      const { deleted } = await sweepRecordings(dir, {
        ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
        logger: options.logger,
      });
      if (deleted > 0) options.logger.info({ deleted }, 'idle call recordings deleted from the media spool');
      return deleted;
    })().finally(() => (running = null)));
  void sweep();
  const timer = setInterval(() => void sweep(), options.intervalMs ?? RECORDING_SWEEP_MS);
  timer.unref();
  return {
    sweep,
    stop() {
      clearInterval(timer);
    },
  };
}
