import type { VoiceEdge } from './edge';
import { ngClientForAddress, type NgClient } from './rtpengine-ng';

/**
 * Whether an answered call is still up, as rtpengine sees it (docs/voice.md "Liveness"): every answered
 * call's media is anchored in rtpengine, which forgets a call once none of its streams carried media
 * for its `timeout` (60 s by default; `silent-timeout`, 3600 s, for streams on hold). The server asks it
 * with the ng `query` command:
 * - `up`: rtpengine knows the Call-ID;
 * - `gone`: rtpengine answers `Unknown call-id` (the call was deleted: its BYE, or no media for `timeout`);
 * - `unknown`: no rtpengine configured, no answer in time, or any other error — nothing is concluded.
 */
export type CallLivenessState = 'up' | 'gone' | 'unknown';

export interface CallLiveness {
  /** The state of the call with this SIP Call-ID. Never rejects. */
  check(callId: string): Promise<CallLivenessState>;
  close(): void;
}

/**
 * @param options.edge where rtpengine's ng port is (`rtpengine`, `host:port`), read on every check
 * @param options.client makes the ng client (tests); default `createNgClient` (2 s time-out)
 */
export function createCallLiveness(options: { edge: () => VoiceEdge; client?: (host: string, port: number) => NgClient }): CallLiveness {
  const { clientFor, close: closeClient } = ngClientForAddress(options.client);
  return {
    async check(callId) {
      const address = options.edge().rtpengine;
      if (!address) return 'unknown';
      try {
        await clientFor(address).request({ command: 'query', 'call-id': callId });
        return 'up';
      } catch (error) {
        return error instanceof Error && /unknown call/i.test(error.message) ? 'gone' : 'unknown';
      }
    },
    close() {
      closeClient();
    },
  };
}
