import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HuiliuError } from '../../../../common/errors/codes';

/**
 * Running a speech program (pocketsphinx, espeak-ng, whisper-cli) safely: `spawn` with an argument
 * array and no shell (nothing in a text or a path is ever interpreted), input through files in a
 * private temp folder (mode 0700) or stdin, a time limit after which the process is killed
 * (SIGKILL), and stdout/stderr cut at a byte limit (a runaway program cannot fill the memory).
 */

export interface ToolRun {
  /** The program: an absolute path or a name looked up on PATH. */
  binary: string;
  args: readonly string[];
  /** Written to the program's stdin, then stdin is closed (absent: stdin is closed at once). */
  stdin?: string | Buffer;
  /** Killed after this many ms → SPEECH_TIMEOUT. */
  timeoutMs: number;
  /** stdout beyond this many bytes is dropped (and `truncated` set); stderr keeps its last 4 KB. */
  maxOutputBytes: number;
  signal?: AbortSignal;
  /** What the program is, for error messages (`pocketsphinx`, `espeak-ng`). */
  engine: string;
  cwd?: string;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  truncated: boolean;
}

const STDERR_KEEP = 4096;

/**
 * Runs one program to its end.
 * @throws HuiliuError SPEECH_ENGINE_UNAVAILABLE (the program does not exist or is not executable),
 *   SPEECH_TIMEOUT (killed after `timeoutMs`), SPEECH_FAILED (non-zero exit or killed by a signal;
 *   `details.stderr` holds the tail of its stderr), CANCELLED (`signal` aborted)
 */
export function runTool(run: ToolRun): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) return reject(new HuiliuError('CANCELLED'));
    const child = spawn(run.binary, [...run.args], {
      shell: false,
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: run.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: process.env.HOME ?? '/tmp' },
      windowsHide: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let truncated = false;
    let err = '';
    let settled = false;
    let why: 'timeout' | 'abort' | null = null;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const kill = (reason: 'timeout' | 'abort') => {
      why = reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), run.timeoutMs);
    const onAbort = () => kill('abort');
    run.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      const room = run.maxOutputBytes - outBytes;
      if (room <= 0) {
        truncated = true;
        return;
      }
      if (chunk.length > room) truncated = true;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      out.push(kept);
      outBytes += kept.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          error.code === 'ENOENT' || error.code === 'EACCES'
            ? new HuiliuError(
                'SPEECH_ENGINE_UNAVAILABLE',
                `${run.engine}: the program ${run.binary} is not installed or not executable (${error.code}).`,
              )
            : new HuiliuError('SPEECH_FAILED', `${run.engine}: could not run ${run.binary} (${error.code ?? error.name}).`),
        ),
      );
    });
    child.on('close', (code, signal) => {
      finish(() => {
        if (why === 'timeout')
          return reject(new HuiliuError('SPEECH_TIMEOUT', `${run.engine} gave no answer within ${run.timeoutMs} ms; it was stopped.`));
        if (why === 'abort') return reject(new HuiliuError('CANCELLED'));
        if (code !== 0) {
          return reject(
            new HuiliuError('SPEECH_FAILED', `${run.engine} failed (${signal ? `signal ${signal}` : `exit status ${code}`}).`, {
              stderr: err.slice(-1000),
            }),
          );
        }
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: err, truncated });
      });
    });
    // A program that exits without reading its stdin makes the write fail with EPIPE: its exit status tells.
    child.stdin.on('error', () => undefined);
    child.stdin.end(run.stdin ?? '');
  });
}

/** Runs `work` with a fresh private temp folder (0700), removed afterwards whatever happens. */
export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'huiliu-speech-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
