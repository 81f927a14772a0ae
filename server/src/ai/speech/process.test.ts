import { describe, expect, it } from 'vitest';
import { runTool } from './process';

const base = { engine: 'test', timeoutMs: 5000, maxOutputBytes: 1024 };

describe('running a speech program', () => {
  it('passes arguments without a shell and text on stdin', async () => {
    const r = await runTool({ ...base, binary: 'cat', args: [], stdin: '$(touch /tmp/should-not-exist); `id` | && ;' });
    expect(r.stdout).toBe('$(touch /tmp/should-not-exist); `id` | && ;');
    const echo = await runTool({ ...base, binary: 'printf', args: ['%s|', 'a b', '; rm -rf /', '$HOME'] });
    expect(echo.stdout).toBe('a b|; rm -rf /|$HOME|');
  });

  it('answers SPEECH_ENGINE_UNAVAILABLE for a program that is not installed', async () => {
    await expect(runTool({ ...base, binary: '/nonexistent/espeak-ng', args: [] })).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
    await expect(runTool({ ...base, binary: 'no-such-speech-program-here', args: [] })).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
  });

  it('kills a program that outlives its time limit (SPEECH_TIMEOUT) and one whose caller aborts (CANCELLED)', async () => {
    const t0 = Date.now();
    await expect(runTool({ ...base, binary: 'sleep', args: ['10'], timeoutMs: 200 })).rejects.toMatchObject({ code: 'SPEECH_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(3000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(runTool({ ...base, binary: 'sleep', args: ['10'], signal: controller.signal })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });

  it('keeps at most maxOutputBytes of stdout and reports a failing exit as SPEECH_FAILED', async () => {
    const r = await runTool({ ...base, binary: 'head', args: ['-c', '100000', '/dev/zero'] });
    expect(r.stdout.length).toBe(1024);
    expect(r.truncated).toBe(true);
    await expect(runTool({ ...base, binary: 'sh', args: ['-c', 'echo broken >&2; exit 3'] })).rejects.toMatchObject({
      code: 'SPEECH_FAILED',
      details: { stderr: 'broken\n' },
    });
  });
});
