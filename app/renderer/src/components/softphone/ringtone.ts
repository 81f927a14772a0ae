/**
 * The incoming-call ring (issue 18): a two-tone 440 + 480 Hz burble, 2 s on / 4 s off (the North
 * American ring cadence, ITU-T E.180 style), made with WebAudio so no sound file ships. `start` returns
 * a stop function; without WebAudio (or with audio blocked) it returns a no-op and the ring is visual only.
 */
export function startRingtone(win: Window = window): () => void {
  const Ctx = (win as unknown as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!Ctx) return () => undefined;
  let ctx: AudioContext;
  try {
    ctx = new Ctx();
  } catch {
    return () => undefined;
  }
  void ctx.resume().catch(() => undefined);
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  const tones = [440, 480].map((f) => {
    const o = ctx.createOscillator();
    o.frequency.value = f;
    o.connect(gain);
    o.start();
    return o;
  });
  // The cadence, scheduled ahead for 10 minutes (a ringing call ends long before).
  const t0 = ctx.currentTime;
  for (let i = 0; i < 100; i++) {
    gain.gain.setValueAtTime(0.15, t0 + i * 6);
    gain.gain.setValueAtTime(0, t0 + i * 6 + 2);
  }
  return () => {
    for (const o of tones) o.stop();
    void ctx.close().catch(() => undefined);
  };
}
