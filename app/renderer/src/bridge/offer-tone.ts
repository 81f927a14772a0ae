/**
 * A short two-note chime for a new offer (issue 15), synthesised with WebAudio (no audio file):
 * 880 Hz then 1320 Hz, 0.12 s each, at a quiet gain with a fast release so it does not click.
 * Never throws: without WebAudio, or before the page may play sound (autoplay policy), it is silent and
 * the OS notification still carries the offer. Answers whether a tone was scheduled.
 */
let shared: AudioContext | null = null;

export function playOfferTone(win: Window | undefined = typeof window === 'undefined' ? undefined : window): boolean {
  const Ctor = (win as unknown as { AudioContext?: typeof AudioContext } | undefined)?.AudioContext;
  if (!Ctor) return false;
  try {
    shared ??= new Ctor();
    const ctx = shared;
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    const start = ctx.currentTime + 0.01;
    [880, 1320].forEach((hz, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      const at = start + i * 0.14;
      osc.type = 'sine';
      osc.frequency.setValueAtTime(hz, at);
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.12);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.13);
    });
    return true;
  } catch {
    return false;
  }
}
