import type { UserView } from '../../../../common/api/auth';
import { SessionIdSchema } from '../../../../common/message/session-id';
import type { Slice, WorkstationDeps } from './types';
import { errorKey } from '../error-text';

export interface AuthSlice {
  token: string | null;
  user: UserView | null;
  loginError: string | null;
  loggingIn: boolean;
  login(username: string, password: string): Promise<void>;
  /** Completes an enterprise sign-in (OIDC, issue 17) from the callback's hand-over code. */
  loginWithSso(handoff: string): Promise<void>;
  /** Shows why an enterprise sign-in was refused (the message is the page's, localized). */
  ssoRefused(message: string): void;
  /**
   * Signs out. An explicit sign-out also erases the local store (issue 15: history, drafts, outbox and
   * its key); `keepLocal` (a lapsed token) keeps it, so unsent replies go after the next sign-in.
   */
  logout(options?: { keepLocal?: boolean }): Promise<void>;
  /** Resumes a session saved in this tab (reload keeps you signed in). */
  restore(): void;
}

const TOKEN_KEY = 'huiliu.token';

/**
 * The conversation open in this tab, kept in the tab's storage (sessionStorage in the workstation) so a
 * reload opens it again once the socket says `hello`; removed when nothing is open (and at sign-out).
 */
export const OPEN_SESSION_KEY = 'huiliu.openSession';

/**
 * Does this user work the live queue (the agent socket's `queue.view`: agents, leads, admins)?
 * Auditors and privacy officers do not: they get no socket, no presence and no desk.
 */
export const worksQueue = (user: Pick<UserView, 'roles'> | null): boolean =>
  Boolean(user?.roles.some((r) => r === 'agent' || r === 'lead' || r === 'admin'));

export const createAuthSlice =
  (deps: WorkstationDeps): Slice<AuthSlice> =>
  (set, get) => {
    /** Signs in with what `answer` gets from the server (password or OIDC hand-over), or shows why not. */
    async function signIn(answer: () => Promise<{ token: string; user: UserView }>): Promise<void> {
      set({ loggingIn: true, loginError: null });
      try {
        const res = await answer();
        deps.storage.setItem(TOKEN_KEY, JSON.stringify({ token: res.token, user: res.user }));
        set({ token: res.token, user: res.user, loggingIn: false });
        if (worksQueue(res.user)) get().goOnline(res.token);
      } catch (error) {
        const message = errorKey(error, 'unreachable');
        set({ loggingIn: false, loginError: message });
      }
    }
    return {
      token: null,
      user: null,
      loginError: null,
      loggingIn: false,
      login: (username, password) => signIn(() => deps.api.login(username, password)),
      async loginWithSso(handoff) {
        if (!deps.api.exchangeSso) return;
        await signIn(() => deps.api.exchangeSso!(handoff));
      },
      ssoRefused(message) {
        set({ loginError: message });
      },
      async logout(options) {
        const token = get().token;
        get().goOffline();
        if (!options?.keepLocal) await get().local.signOut();
        deps.storage.removeItem(TOKEN_KEY);
        set({ token: null, user: null });
        get().resetWork();
        if (token) await deps.api.logout(token).catch(() => undefined);
      },
      restore() {
        const raw = deps.storage.getItem(TOKEN_KEY);
        if (!raw) return;
        try {
          const saved = JSON.parse(raw) as { token: string; user: UserView };
          // The conversation this tab had open before the reload: read again after `hello` (connection.ts).
          const open = deps.storage.getItem(OPEN_SESSION_KEY);
          set({
            token: saved.token,
            user: saved.user,
            ...(open && SessionIdSchema.safeParse(open).success ? { openSessionId: open } : {}),
          });
          if (worksQueue(saved.user)) get().goOnline(saved.token);
        } catch {
          deps.storage.removeItem(TOKEN_KEY);
        }
      },
    };
  };
