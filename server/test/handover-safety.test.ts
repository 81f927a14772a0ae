import { describe, expect, it } from 'vitest';
import { runHandoverSafety, safetyScenarios, summarizeSafety } from '../eval/handover-safety';

/**
 * Hand-over safety (issue 10 "Measure"), in CI: the scripted conversations of `npm run eval -- tiers`
 * against the real demo server through the app channel and the widget — asks for a person in 20
 * phrasings (zh + en, as first and as second message), angry customers, the same question three
 * times, out-of-scope and gibberish turns, the talk-to-a-person button — once with no agent online
 * and once with an agent connected. Every conversation must reach a person or a left message, be
 * told so, keep the customer's next message for the agents, and never come back to the AI.
 */
describe('hand-over safety: every scripted customer reaches a person or a left message, and never loops', () => {
  it('runs the whole script with and without an agent online', { timeout: 90_000 }, async () => {
    const scenarios = safetyScenarios();
    expect(scenarios.filter((s) => s.group === 'ask-first')).toHaveLength(20);
    const run = await runHandoverSafety(scenarios);
    const summary = summarizeSafety(run);
    expect(summary.conversations).toBe(scenarios.length * 2);
    // Every scripted customer (no purchase history) met the AI first: nothing here was routed past it.
    expect(run.results.filter((r) => r.reason === 'routed-to-people').map((r) => r.id)).toEqual([]);
    // Every failed check by name (no reply, no or wrong notice, message not kept, back to the AI …).
    expect(summary.problems).toEqual([]);
    expect(summary.reached).toBe(summary.conversations);
    expect(summary.leftMessage).toBe(scenarios.length);
    expect(summary.person).toBe(scenarios.length);
    expect(summary.loops).toBe(0);
    // With agent1 online one contact at a time is offered to them; the others wait in the queue for them.
    expect(summary.statusesWithAgent.offered).toBeGreaterThanOrEqual(1);
    expect((summary.statusesWithAgent.offered ?? 0) + (summary.statusesWithAgent.queued ?? 0)).toBe(scenarios.length);
    // Every run is handed over within its script (at most three failed turns, a KB question first in the second-message runs).
    for (const r of run.results) expect(r.turns, r.id).toBeLessThanOrEqual(4);
    // The language core recognised 18 of the 20 phrasings when this was written (docs/ai-quality.md):
    // a detector change that loses more fails here, while the safety net still hands those over.
    expect(summary.asksRecognised).toBeGreaterThanOrEqual(68);
  });
});
