import type { TransferMode, TransferTarget } from '../../../common/api/transfers';
import type { RoutingConfig, RoutingDecision } from '../../../common/routing/types';

/**
 * The routing side of a transfer (issue 11): how the target is named in the decision log and the
 * decision a transferred contact is routed under. Pure functions; the router offers, the transfer
 * use cases (conversations/transfers.ts) decide what is asked.
 */

/**
 * The target as `RoutingDecision.transfer.to`: an agent's id, `skill-group:<id>`, or `expert:<id>`
 * (the expert tier of that group).
 */
export function transferRef(target: TransferTarget, skillGroup: string): string {
  switch (target.kind) {
    case 'agent':
      return target.agentId;
    case 'skill-group':
      return `skill-group:${skillGroup}`;
    case 'expert':
      return `expert:${skillGroup}`;
  }
}

export interface TransferFacts {
  /** The transferring agent's id. */
  from: string;
  target: TransferTarget;
  mode: TransferMode;
  /** The skill group the contact is in once transferred. */
  skillGroup: string;
  /** When the transfer was asked for (ISO 8601). */
  at: string;
  /** Names for the reason's note (the ids stay in `transfer`): the sender's, the target agent's or group's. */
  names?: { from?: string; target?: string };
}

/**
 * The decision a transferred contact is routed under: the scores of `base` (its last decision)
 * unchanged, the new skill group, tier `expert` for a transfer to the expert tier (priority unchanged,
 * so its widening rings apply), trigger `transferred`, `transfer: {from, to, mode}` and a reason that
 * says so. What belonged to the previous offer (agent, candidates, ring) is dropped. A contact that was
 * never scored (taken from the queue before its decision) gets zero scores and says so.
 */
export function transferDecision(base: RoutingDecision | null, t: TransferFacts, config: RoutingConfig): RoutingDecision {
  const scored: RoutingDecision = base ?? {
    valueScore: 0,
    difficultyScore: 0,
    priority: 0,
    tier: 'assisted',
    configVersion: config.version,
    weights: { ...config.weights },
    thresholds: { ...config.thresholds },
    skillGroup: t.skillGroup,
    reasons: [{ factor: 'unscored', note: 'not scored before the transfer: zero scores', code: 'unscored' }],
    offeredTo: null,
    assignment: '',
    decidedAt: t.at,
  };
  const expert = t.target.kind === 'expert';
  const to = transferRef(t.target, t.skillGroup);
  const target = t.names?.target ?? (t.target.kind === 'agent' ? to : t.skillGroup);
  const label = t.target.kind === 'agent' ? `agent ${target}` : expert ? `the expert tier of ${target}` : `skill group ${target}`;
  const moved = t.skillGroup !== scored.skillGroup ? ` (from ${scored.skillGroup})` : '';
  const note = `${t.mode} transfer by ${t.names?.from ?? t.from} to ${label}${moved}${expert && scored.tier !== 'expert' ? `; tier ${scored.tier} → expert, priority unchanged` : ''}`;
  // Issue 15: the note as a code (`transfer-<agent|group|expert>[-moved][-raised]`) with the names as params.
  const raised = expert && scored.tier !== 'expert';
  const kind = t.target.kind === 'agent' ? 'agent' : expert ? 'expert' : 'group';
  const code = `transfer-${kind}${moved ? '-moved' : ''}${raised ? '-raised' : ''}`;
  const params = {
    mode: t.mode,
    from: t.names?.from ?? t.from,
    target,
    ...(moved ? { fromGroup: scored.skillGroup } : {}),
    ...(raised ? { tier: scored.tier } : {}),
  };
  // Only the newest transfer is a reason: a contact transferred twice does not carry the first one.
  const { candidates: _candidates, ring: _ring, effectivePriority: _effective, waitedMs: _waited, ...kept } = scored;
  return {
    ...kept,
    tier: expert ? 'expert' : scored.tier,
    skillGroup: t.skillGroup,
    reasons: [...scored.reasons.filter((r) => r.factor !== 'transfer'), { factor: 'transfer', note, code, params }],
    offeredTo: null,
    assignment: '',
    trigger: 'transferred',
    offeredAt: t.at,
    transfer: { from: t.from, to, mode: t.mode },
  };
}
