import { createContext, useContext, useEffect, useState } from 'react';
import type { Role, UserView } from '../../../common/api/auth';
import { createRoutingApi, type RoutingApi } from './api/routing';

/** The routing admin REST client; main.tsx's default talks to the serving origin, tests give a fake fetch. */
export const RoutingApiContext = createContext<RoutingApi>(createRoutingApi());
export const useRoutingApi = (): RoutingApi => useContext(RoutingApiContext);

/** Roles that see the routing page and colleagues in explanations (policy `routing.view`, `team.view`). */
const ROUTING_VIEWERS: readonly Role[] = ['lead', 'admin', 'auditor'];

/** May this user open the routing page (read only unless `canManageRouting`)? */
export const canViewRouting = (user: Pick<UserView, 'roles'> | null): boolean =>
  Boolean(user?.roles.some((r) => ROUTING_VIEWERS.includes(r)));

/** May this user open the KPI view (issue 16: leads and admins; the server scopes the numbers, policy `metrics.view`)? */
export const canViewKpis = (user: Pick<UserView, 'roles'> | null): boolean =>
  Boolean(user?.roles.some((r) => r === 'lead' || r === 'admin'));

/** May this user open the live board (policy `board.view`: leads and admins; issue 16)? */
export const canViewBoard = (user: Pick<UserView, 'roles'> | null): boolean =>
  Boolean(user?.roles.some((r) => r === 'lead' || r === 'admin'));

/** May this user publish and roll back routing configs (policy `routing.manage`)? */
export const canManageRouting = (user: Pick<UserView, 'roles'> | null): boolean => Boolean(user?.roles.includes('admin'));

/** May this user open the Apps page: app accounts, keys, webhook dead letters (policy `channel.manage`, issue 13)? */
export const canManageApps = (user: Pick<UserView, 'roles'> | null): boolean => Boolean(user?.roles.includes('admin'));

/** May this user open the audit view (policy `audit.view`: auditors only, issue 17)? */
export const canViewAudit = (user: Pick<UserView, 'roles'> | null): boolean => Boolean(user?.roles.includes('auditor'));

/** The staff directory of the signed-in user (empty for agents, who may not read it). */
export const StaffContext = createContext<readonly UserView[]>([]);
export const useStaff = (): readonly UserView[] => useContext(StaffContext);

/** Reads the staff directory once per sign-in, for users allowed to (leads, admins, auditors). */
export function useStaffDirectory(token: string | null, user: UserView | null): readonly UserView[] {
  const api = useRoutingApi();
  const [staff, setStaff] = useState<readonly UserView[]>([]);
  const allowed = canViewRouting(user);
  useEffect(() => {
    if (!token || !allowed) {
      setStaff([]);
      return;
    }
    let live = true;
    // Names are a nicety: without the directory, explanations show ids.
    api.staff(token).then(
      (users) => live && setStaff(users),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api, token, allowed]);
  return staff;
}

/** A user's display name by id (or username), else the id itself. */
export function staffName(staff: readonly UserView[], idOrUsername: string): string {
  const u = staff.find((x) => x.id === idOrUsername || x.username === idOrUsername);
  return u ? u.displayName : idOrUsername;
}

/** Who published a routing config version: a user's name, or the config file the server seeded it from. */
export function publisherName(staff: readonly UserView[], publishedBy: string, configFile: string): string {
  return publishedBy === 'config-file' ? configFile : staffName(staff, publishedBy);
}

/** May this user file a data export or erasure request (policy `privacy.request`, issue 17)? */
export const canRequestPrivacy = (user: Pick<UserView, 'roles'> | null): boolean =>
  Boolean(user?.roles.some((r) => r === 'agent' || r === 'lead' || r === 'admin' || r === 'privacy-officer'));

/** May this user see and decide data-subject requests (policy `privacy.approve`: privacy officers, issue 17)? */
export const canApprovePrivacy = (user: Pick<UserView, 'roles'> | null): boolean => Boolean(user?.roles.includes('privacy-officer'));
