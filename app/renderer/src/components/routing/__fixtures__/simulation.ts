import type { SimulationMetrics, SimulationResult } from '../../../../../../common/api/routing';

const metrics = (over: Partial<SimulationMetrics>): SimulationMetrics => ({
  contacts: 240,
  tierMix: { expert: 24, assisted: 96, ai: 120 },
  serviceLevel: 0.82,
  asaSeconds: 14.2,
  abandonment: 0.04,
  occupancy: 0.71,
  containment: 0.38,
  unanswered: 0,
  bySkillGroup: {
    general: { contacts: 180, serviceLevel: 0.85, asaSeconds: 12.1, abandonment: 0.03 },
    vip: { contacts: 60, serviceLevel: 0.73, asaSeconds: 20.5, abandonment: 0.07 },
  },
  hourly: [{ hour: 0, contacts: 30, answeredInThreshold: 24, abandoned: 1, meanWaitSeconds: 12 }],
  ...over,
});

/** A what-if result as POST /api/v1/routing/simulate answers it (common/api/routing.ts), for UI tests. */
export const SIMULATION: SimulationResult = {
  source: 'generated',
  window: { from: '2025-03-01T08:00:00.000Z', to: '2025-03-01T16:00:00.000Z' },
  contacts: 240,
  current: { configVersion: 1, metrics: metrics({}) },
  draft: {
    metrics: metrics({
      tierMix: { expert: 60, assisted: 110, ai: 70 },
      serviceLevel: 0.76,
      asaSeconds: 19.8,
      abandonment: 0.06,
      occupancy: 0.83,
      containment: 0.22,
      bySkillGroup: {
        general: { contacts: 180, serviceLevel: 0.8, asaSeconds: 16.4, abandonment: 0.05 },
        vip: { contacts: 60, serviceLevel: 0.62, asaSeconds: 29.9, abandonment: 0.1 },
      },
    }),
  },
  changes: {
    total: 3,
    tierChanged: 2,
    agentChanged: 2,
    items: [
      {
        sessionId: 'AP202503010800000001',
        index: 0,
        arrivedAt: '2025-03-01T08:00:40.000Z',
        current: { tier: 'assisted', agentId: 'u-agent1', priority: 62.5 },
        draft: { tier: 'expert', agentId: 'u-agent2', priority: 81.3 },
      },
      {
        sessionId: 'WB202503010801000002',
        index: 1,
        arrivedAt: '2025-03-01T08:01:10.000Z',
        current: { tier: 'ai', agentId: null, priority: 44 },
        draft: { tier: 'assisted', agentId: null, priority: 55.1 },
      },
      {
        index: 2,
        arrivedAt: '2025-03-01T08:03:00.000Z',
        current: { tier: 'assisted', agentId: 'u-agent1', priority: 70 },
        draft: { tier: 'assisted', agentId: 'u-agent2', priority: 72 },
      },
    ],
  },
  tookMs: 37,
  agents: 6,
  aiTier: false,
  notes: [],
};
