/**
 * The simulator's future-event list: a binary min-heap on (time, insertion order), so events at the
 * same millisecond run in the order they were scheduled and a run is deterministic.
 */
export class EventQueue {
  private readonly times: number[] = [];
  private readonly order: number[] = [];
  private readonly kinds: number[] = [];
  private readonly subjects: number[] = [];
  private seq = 0;

  get size(): number {
    return this.times.length;
  }

  /** Schedules event `kind` about `subject` (a contact or agent index) at `time` ms. */
  push(time: number, kind: number, subject: number): void {
    const t = this.times;
    let i = t.length;
    t.push(time);
    this.order.push(this.seq++);
    this.kinds.push(kind);
    this.subjects.push(subject);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The earliest event's time, or Infinity when empty. */
  peekTime(): number {
    return this.times.length > 0 ? this.times[0]! : Infinity;
  }

  /** Removes the earliest event; `out` receives its time, kind and subject. False when empty. */
  pop(out: { time: number; kind: number; subject: number }): boolean {
    const n = this.times.length;
    if (n === 0) return false;
    out.time = this.times[0]!;
    out.kind = this.kinds[0]!;
    out.subject = this.subjects[0]!;
    const last = n - 1;
    if (last > 0) this.swap(0, last);
    this.times.pop();
    this.order.pop();
    this.kinds.pop();
    this.subjects.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      const m = r < last && this.less(r, l) ? r : l;
      if (!this.less(m, i)) break;
      this.swap(i, m);
      i = m;
    }
    return true;
  }

  private less(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    return ta < tb || (ta === tb && this.order[a]! < this.order[b]!);
  }

  // Written out, not through a helper closure: this runs a few million times in a long replay.
  private swap(a: number, b: number): void {
    const t = this.times;
    const o = this.order;
    const k = this.kinds;
    const s = this.subjects;
    const t0 = t[a]!;
    t[a] = t[b]!;
    t[b] = t0;
    const o0 = o[a]!;
    o[a] = o[b]!;
    o[b] = o0;
    const k0 = k[a]!;
    k[a] = k[b]!;
    k[b] = k0;
    const s0 = s[a]!;
    s[a] = s[b]!;
    s[b] = s0;
  }
}
