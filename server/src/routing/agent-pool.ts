import type { Presence } from '../../../common/socket/agent-events';

export interface AgentState {
  id: string;
  username: string;
  displayName: string;
  skillGroups: readonly string[];
  expert: boolean;
  presence: Presence;
  /** Open socket connections (an agent may run the app and a browser tab). */
  connections: number;
  activeChats: number;
  /** When the agent last became free of work; the longest idle agent gets the next contact. */
  idleSince: number;
}

/**
 * Who is online to take contacts (DESIGN §5 assignment). In-process for the embedded mode; the
 * agent hub keeps it current from socket connects, presence changes, claims and closes.
 */
export class AgentPool {
  private readonly agents = new Map<string, AgentState>();
  private readonly listeners = new Set<(agent: Readonly<AgentState>) => void>();

  /**
   * Calls `listener` after each change of an agent (connect, disconnect, presence, load): what the
   * live board (issue 16) pushes from. Returns the function that removes it.
   */
  onChange(listener: (agent: Readonly<AgentState>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(agent: AgentState): void {
    for (const listener of this.listeners) listener(agent);
  }

  connect(agent: Omit<AgentState, 'presence' | 'connections' | 'idleSince' | 'activeChats'>, activeChats: number, now: number): AgentState {
    const existing = this.agents.get(agent.id);
    if (existing) {
      existing.connections += 1;
      return existing;
    }
    const state: AgentState = { ...agent, presence: 'available', connections: 1, activeChats, idleSince: now };
    this.agents.set(agent.id, state);
    this.changed(state);
    return state;
  }

  /** Returns true when the agent's last connection went away. */
  disconnect(agentId: string): boolean {
    const a = this.agents.get(agentId);
    if (!a) return false;
    a.connections -= 1;
    if (a.connections > 0) return false;
    this.agents.delete(agentId);
    this.changed({ ...a, presence: 'offline' });
    return true;
  }

  get(agentId: string): AgentState | undefined {
    return this.agents.get(agentId);
  }

  setPresence(agentId: string, presence: Presence, now: number): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    if (a.presence !== presence && presence === 'available' && a.activeChats === 0) a.idleSince = now;
    const before = a.presence;
    a.presence = presence;
    if (before !== presence) this.changed(a);
  }

  /**
   * Sets the agent's chat count from the store (`SessionStore.activeChatCount`): capacity is derived
   * from what the store says is active, never incremented beside it, so it cannot drift (C9).
   */
  setActiveChats(agentId: string, activeChats: number, now: number): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    if (activeChats === 0 && a.activeChats > 0) a.idleSince = now;
    const before = a.activeChats;
    a.activeChats = activeChats;
    if (before !== activeChats) this.changed(a);
  }

  /** Every agent signed in on this node, whatever their presence or load (the engine decides who qualifies). */
  all(): AgentState[] {
    return [...this.agents.values()];
  }

  /** Every connected agent of `skillGroup`, whatever their presence or load: what the router explains. */
  inGroup(skillGroup: string): AgentState[] {
    return [...this.agents.values()].filter((a) => a.skillGroups.includes(skillGroup));
  }
}
