/**
 * `npm run eval -- asr` (issue 18): word error rate (English) and character error rate (Mandarin) of
 * each speech-to-text engine on the shared clips (../shared/data/speech-asr-clips: LibriSpeech
 * test-clean, JFK, AISHELL-1; SOURCE.md there), on clean 16 kHz audio and on the telephone path
 * (8 kHz G.711 μ-law). Writes its table into docs/ai-quality.md between its own markers.
 *
 * Engines: pocketsphinx always (Debian); an OpenAI-compatible server when ASR_EVAL_OPENAI_URL (+
 * ASR_EVAL_OPENAI_MODEL, optional ASR_EVAL_OPENAI_KEY_ENV naming the key's variable) is set; a
 * whisper.cpp CLI when ASR_EVAL_WHISPER_MODEL (+ optional ASR_EVAL_WHISPER_CLI) is set. Nothing is
 * downloaded; without those variables their rows say so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Lang } from '../../common/ai/types';
import { HuiliuError } from '../../common/errors/codes';
import { decodeWav, durationOf, telephoneQuality } from '../src/ai/speech/audio';
import { OpenAiAsr } from '../src/ai/speech/openai';
import { PocketsphinxAsr } from '../src/ai/speech/pocketsphinx';
import type { Asr, PcmAudio } from '../src/ai/speech/types';
import { WhisperCliAsr } from '../src/ai/speech/whisper-cli';
import { charErrors, pooledRate, wordErrors, type ErrorCount } from '../src/ai/speech/wer';
import { REPO_ROOT } from '../src/runtime/paths';

export const ASR_CLIPS = join(REPO_ROOT, '..', 'shared', 'data', 'speech-asr-clips');

interface Clip {
  lang: Lang;
  file: string;
  reference: string;
  audio: PcmAudio;
}

/** The WAV clips of transcripts.tsv. `en/jfk.flac` is skipped: it is the same speech as `en/jfk_16k_mono.wav` (FLAC is not a call codec). */
export function asrClips(root = ASR_CLIPS): Clip[] {
  const rows = readFileSync(join(root, 'transcripts.tsv'), 'utf8').trim().split('\n').slice(1);
  return rows
    .map((row) => row.split('\t'))
    .filter((c) => c[1]!.endsWith('.wav'))
    .map((c) => ({ lang: c[0] as Lang, file: c[1]!, reference: c[4]!, audio: decodeWav(readFileSync(join(root, c[1]!))) }));
}

interface EngineRun {
  name: string;
  asr: Asr | null;
  /** Why the engine did not run here (no model on this machine). */
  absent?: string;
}

function engines(env: NodeJS.ProcessEnv): EngineRun[] {
  const runs: EngineRun[] = [{ name: 'pocketsphinx 0.8 + en-us (Debian)', asr: new PocketsphinxAsr({ timeoutMs: 300_000 }) }];
  if (env.ASR_EVAL_OPENAI_URL && env.ASR_EVAL_OPENAI_MODEL) {
    runs.push({
      name: `openai-compatible ${env.ASR_EVAL_OPENAI_MODEL}`,
      asr: new OpenAiAsr({
        baseUrl: env.ASR_EVAL_OPENAI_URL,
        model: env.ASR_EVAL_OPENAI_MODEL,
        apiKeyEnv: env.ASR_EVAL_OPENAI_KEY_ENV,
        timeoutMs: 300_000,
      }),
    });
  } else
    runs.push({ name: 'openai-compatible server', asr: null, absent: 'not measured: no server configured here (ASR_EVAL_OPENAI_URL)' });
  if (env.ASR_EVAL_WHISPER_MODEL) {
    runs.push({
      name: `whisper-cli ${env.ASR_EVAL_WHISPER_MODEL.split('/').pop()}`,
      asr: new WhisperCliAsr({ binary: env.ASR_EVAL_WHISPER_CLI, model: env.ASR_EVAL_WHISPER_MODEL, timeoutMs: 600_000 }),
    });
  } else
    runs.push({
      name: 'whisper-cli (local model file)',
      asr: null,
      absent: 'not measured: no whisper.cpp or model on this machine (ASR_EVAL_WHISPER_MODEL)',
    });
  return runs;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export async function runAsrEval(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const clips = asrClips();
  const rows: string[] = [];
  const perClip: string[] = [];
  for (const run of engines(env)) {
    for (const lang of ['en', 'zh'] as const) {
      const measure = lang === 'en' ? 'WER' : 'CER';
      const mine = clips.filter((c) => c.lang === lang);
      const seconds = mine.reduce((s, c) => s + durationOf(c.audio), 0);
      if (!run.asr) {
        rows.push(`| ${run.name} | ${lang} | — | ${measure} | ${run.absent} | | |`);
        continue;
      }
      if (!run.asr.langs.includes(lang)) {
        rows.push(
          `| ${run.name} | ${lang} | ${mine.length} clips, ${seconds.toFixed(0)} s | ${measure} | no ${lang === 'zh' ? 'Mandarin' : lang} model (SPEECH_INPUT_UNSUPPORTED) | | |`,
        );
        continue;
      }
      for (const path of ['clean 16 kHz', 'telephone 8 kHz μ-law'] as const) {
        const counts: ErrorCount[] = [];
        let cpu = 0;
        let failed = 0;
        for (const clip of mine) {
          const audio = path === 'clean 16 kHz' ? clip.audio : telephoneQuality(clip.audio);
          const t0 = performance.now();
          let hypothesis = '';
          try {
            hypothesis = (await run.asr.transcribe(audio, { lang })).text;
          } catch (error) {
            failed++;
            log(`  ${clip.file}: ${error instanceof HuiliuError ? error.code : (error as Error).message}`);
          }
          cpu += (performance.now() - t0) / 1000;
          const count = lang === 'en' ? wordErrors(clip.reference, hypothesis) : charErrors(clip.reference, hypothesis);
          counts.push(count);
          perClip.push(
            `| ${run.name} | ${path} | \`${clip.file}\` | ${pct(count.errors / count.reference)} | ${hypothesis || '(nothing)'} |`,
          );
        }
        const rate = pooledRate(counts);
        const line = `| ${run.name} | ${lang}, ${path} | ${mine.length} clips, ${seconds.toFixed(0)} s | ${measure} | **${pct(rate)}** (accuracy ${pct(Math.max(0, 1 - rate))})${failed ? `, ${failed} failed` : ''} | ${(cpu / seconds).toFixed(2)} | ${rate <= 0.05 ? '✔' : '✘'} |`;
        rows.push(line);
        log(line);
      }
    }
  }
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  const generated = `Written by \`npm run eval -- asr\` (server/eval/asr.ts) at commit ${commit}, ${new Date().toISOString().slice(0, 10)}, on ${cpus()[0]?.model ?? 'this machine'} (${cpus().length} cores, shared with other jobs: the real-time factors are upper bounds). The error rates are deterministic.

| engine | language, path | audio | measure | pooled error rate | real-time factor | ≥ 95 % |
|---|---|---|---|---|---|---|
${rows.join('\n')}

- Clips: ../shared/data/speech-asr-clips (SOURCE.md there): 5 English WAVs (LibriSpeech test-clean ×4, CC BY 4.0; JFK 1961, public domain; \`jfk.flac\` is the same speech as \`jfk_16k_mono.wav\` and is skipped) and 2 Mandarin (AISHELL-1, Apache-2.0). A smoke set, not a benchmark: 7 utterances cannot estimate an error rate to better than ±10 points.
- WER: Levenshtein distance over words after upper-casing and removing punctuation, divided by the reference's words; CER: over characters after removing spaces and punctuation (NFKC). Pooled = all errors / all reference units. Accuracy = 1 − error rate.
- Telephone path: the clip resampled to 8 kHz, G.711 μ-law encoded and decoded (\`telephoneQuality\`), then given to the engine as a PSTN caller's audio would be.
- Real-time factor: seconds of processing per second of audio, one clip at a time.

<details><summary>Per clip</summary>

| engine | path | clip | error rate | hypothesis |
|---|---|---|---|---|
${perClip.join('\n')}

</details>`;
  const file = join(REPO_ROOT, 'docs', 'ai-quality.md');
  const BEGIN = '<!-- npm run eval -- asr: begin -->';
  const END = '<!-- npm run eval -- asr: end -->';
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# AI quality\n';
  const start = old.indexOf(BEGIN);
  const stop = old.indexOf(END);
  const doc =
    start >= 0 && stop > start
      ? `${old.slice(0, start + BEGIN.length)}\n${generated}\n${old.slice(stop)}`
      : `${old.trimEnd()}\n\n## Speech recognition (issue 18)\n\n${BEGIN}\n${generated}\n${END}\n`;
  writeFileSync(file, doc);
  log('wrote docs/ai-quality.md (asr)');
}
