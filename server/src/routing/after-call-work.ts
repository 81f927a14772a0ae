import type { ChannelCode } from '../../../common/message/session-id';
import type { RoutingConfig } from '../../../common/routing/types';
import type { Presence } from '../../../common/socket/agent-events';
import type { Logger } from '../logging/logger';
import type { AgentPool } from './agent-pool';
import { channelKindOf } from './engine';

export interface AfterCallWorkDeps {
  pool: AgentPool;
  config: () => RoutingConfig | Promise<RoutingConfig>;
  /** Offers waiting contacts to an agent who is available again (`Router.agentAvailable`). */
  available: (agentId: string) => Promise<void>;
  logger: Logger;
  now?: () => number;
}

/** An agent's presence changed without them asking (after-call work began or ended). */
export type PresenceListener = (agentId: string, presence: Presence, until: string | null) => void;

/**
 * After-call work (wrap-up time, DESIGN §5 presence): after an agent closes a call, or their last open
 * chat, they are `after-call-work` for `afterCallWorkSeconds[kind]` seconds and get no offers; then
 * they are `available` again and waiting contacts are offered. Setting a presence themselves ends it.
 * The timer is this node's, like the presence it changes (`AgentPool`).
 */
export interface AfterCallWork {
  /**
   * A contact of `channel` the agent held was closed. Returns when after-call work ends (ISO 8601), or
   * null when none applies (0 seconds configured, other chats still open, or the agent not
   * `available`) — the caller then offers waiting contacts as usual.
   */
  contactClosed(agentId: string, channel: ChannelCode): Promise<string | null>;
  /** The agent set a presence themselves: their after-call work timer, if any, is dropped. */
  cancel(agentId: string): void;
  onChange(listener: PresenceListener): void;
  stop(): void;
}

export function createAfterCallWork(deps: AfterCallWorkDeps): AfterCallWork {
  const now = deps.now ?? Date.now;
  const timers = new Map<string, NodeJS.Timeout>();
  const listeners: PresenceListener[] = [];
  const log = deps.logger.child({ component: 'after-call-work' });
  let stopped = false;

  const emit = (agentId: string, presence: Presence, until: string | null) => {
    for (const l of listeners) l(agentId, presence, until);
  };

  function cancel(agentId: string): void {
    clearTimeout(timers.get(agentId));
    timers.delete(agentId);
  }

  return {
    async contactClosed(agentId, channel) {
      const kind = channelKindOf(channel);
      const seconds = (await deps.config()).afterCallWorkSeconds[kind];
      const agent = deps.pool.get(agentId);
      if (stopped || seconds <= 0 || !agent || agent.presence !== 'available') return null;
      // A chat agent still holding other chats keeps working them: wrap-up time is for an empty desk.
      if (kind === 'chat' && agent.activeChats > 0) return null;
      const t = now();
      const until = new Date(t + seconds * 1000).toISOString();
      deps.pool.setPresence(agentId, 'after-call-work', t);
      cancel(agentId);
      const timer = setTimeout(() => {
        timers.delete(agentId);
        const a = deps.pool.get(agentId);
        if (stopped || a?.presence !== 'after-call-work') return;
        deps.pool.setPresence(agentId, 'available', now());
        emit(agentId, 'available', null);
        void deps.available(agentId).catch((error: unknown) => log.error({ err: error, agentId }, 'offering after wrap-up failed'));
      }, seconds * 1000);
      timer.unref();
      timers.set(agentId, timer);
      emit(agentId, 'after-call-work', until);
      return until;
    },
    cancel,
    onChange(listener) {
      listeners.push(listener);
    },
    stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
