import type { Asr, SpeechEmotion } from '../ai/speech/types';
import type { Logger } from '../logging/logger';
import type { VoiceEdge } from './edge';
import { startMediaTap, type HeardUtterance, type MediaTapDeps } from './media-tap';

/**
 * The voice service's `transcribe` port (issue 18, docs/voice.md "Live transcripts"): a media tap per
 * answered call on the spool of the edge that is running (`voice/edge.json` `recordings`), with the
 * configured `Asr` in its first language and the `SpeechEmotion`. No edge running or one without
 * rtpengine: the tap finds no recording and stops quietly (logged once).
 */
export function callTranscriber(
  asr: Asr,
  emotion: SpeechEmotion,
  edge: () => VoiceEdge,
  logger: Logger,
  options: Pick<MediaTapDeps, 'pollMs' | 'pauseMs' | 'findWaitMs'> = {},
): (callId: string, onHeard: (heard: HeardUtterance) => Promise<void>) => { stop(): Promise<void> } {
  const lang = asr.langs[0] ?? 'en';
  return (callId, onHeard) =>
    startMediaTap(callId, onHeard, { recordingDir: () => edge().recordings ?? null, asr, emotion, lang, logger, ...options });
}
