import { Suspense, lazy, useEffect, useState } from 'react';
import { useWorkstation } from './context';
import { ContextPanel } from './components/ContextPanel';
import { Conversation } from './components/Conversation';
import { Login } from './components/Login';
import { QueueList } from './components/QueueList';
import { TopBar, type View } from './components/TopBar';
import { CollisionLayer } from './components/collision/CollisionLayer';
import { ShortcutsOverlay } from './components/shortcuts/ShortcutsOverlay';
import { worksQueue } from './stores/auth';
import { canSupervise } from './stores/supervision';
import {
  StaffContext,
  canApprovePrivacy,
  canManageApps,
  canViewAudit,
  canViewBoard,
  canViewKpis,
  canViewRouting,
  useStaffDirectory,
} from './staff';

// Issue 18: the softphone (and JsSIP, about a fifth of the bundle) loads after the workstation is on
// screen, so it does not delay the queue (docs/benchmarks.md, the renderer's load line).
const Softphone = lazy(() => import('./components/softphone/Softphone').then((m) => ({ default: m.Softphone })));
// The routing page (and its charts) loads only when a lead, admin or auditor opens it.
const RoutingPage = lazy(() => import('./components/routing/RoutingPage').then((m) => ({ default: m.RoutingPage })));
// The KPI view (issue 16) and its charts, for leads and admins.
const KpisPage = lazy(() => import('./components/kpis/KpisPage').then((m) => ({ default: m.KpisPage })));
// The live board (issue 16) likewise, for leads and admins.
const BoardPage = lazy(() => import('./components/board/BoardPage').then((m) => ({ default: m.BoardPage })));
// The Apps page (issue 13) likewise, for admins.
const AppsPage = lazy(() => import('./components/apps/AppsPage').then((m) => ({ default: m.AppsPage })));
// The audit view (issue 17), for auditors.
const AuditPage = lazy(() => import('./components/audit/AuditPage').then((m) => ({ default: m.AuditPage })));
// The privacy requests (issue 17), for privacy officers.
// The lead's supervision page (issue 16).
const SupervisePage = lazy(() => import('./components/supervision/SupervisePage').then((m) => ({ default: m.SupervisePage })));
const PrivacyPage = lazy(() => import('./components/privacy/PrivacyPage').then((m) => ({ default: m.PrivacyPage })));

export function App() {
  const signedIn = useWorkstation((s) => s.token !== null);
  if (!signedIn) return <Login />;
  return <Shell />;
}

/** The signed-in workstation: the agent's desk, or (leads, admins, auditors) the routing page, or (admins) the Apps page, or (auditors) the audit log, or (privacy officers) the privacy requests. */
function Shell() {
  const token = useWorkstation((s) => s.token);
  const user = useWorkstation((s) => s.user);
  const staff = useStaffDirectory(token, user);
  // Auditors (and privacy officers) have no desk: they start on their own page.
  const [view, setView] = useState<View>(() =>
    worksQueue(user) ? 'workstation' : canViewAudit(user) ? 'audit' : canApprovePrivacy(user) ? 'privacy' : 'workstation',
  );
  // The live board's "Supervise" (openSupervision) shows the supervision view wherever the lead is.
  const supervisedId = useWorkstation((s) => s.supervisedId);
  const openSupervision = useWorkstation((s) => s.openSupervision);
  useEffect(() => {
    if (supervisedId) setView('supervise');
  }, [supervisedId]);
  const supervise = view === 'supervise' && canSupervise(user);
  const routing = view === 'routing' && canViewRouting(user);
  const kpis = view === 'kpis' && canViewKpis(user);
  const board = view === 'board' && canViewBoard(user);
  const apps = view === 'apps' && canManageApps(user);
  const audit = view === 'audit' && canViewAudit(user);
  const privacy = view === 'privacy' && canApprovePrivacy(user);
  return (
    <StaffContext.Provider value={staff}>
      <div className="shell">
        <CollisionLayer onTakenOver={() => setView('workstation')} />
        <TopBar
          view={
            supervise
              ? 'supervise'
              : board
                ? 'board'
                : routing
                  ? 'routing'
                  : kpis
                    ? 'kpis'
                    : apps
                      ? 'apps'
                      : audit
                        ? 'audit'
                        : privacy
                          ? 'privacy'
                          : 'workstation'
          }
          onView={setView}
        />
        {supervise ? (
          <Suspense fallback={<main className="supervise" />}>
            <SupervisePage />
          </Suspense>
        ) : board ? (
          <Suspense fallback={<main className="board" />}>
            <BoardPage onSupervise={(sessionId) => void openSupervision(sessionId)} />
          </Suspense>
        ) : routing ? (
          <Suspense fallback={<main className="routing" />}>
            <RoutingPage />
          </Suspense>
        ) : kpis ? (
          <Suspense fallback={<main className="kpis" />}>
            <KpisPage />
          </Suspense>
        ) : audit ? (
          <Suspense fallback={<main className="audit" />}>
            <AuditPage />
          </Suspense>
        ) : privacy ? (
          <Suspense fallback={<main className="privacy" />}>
            <PrivacyPage />
          </Suspense>
        ) : apps ? (
          <Suspense fallback={<main className="apps" />}>
            <AppsPage />
          </Suspense>
        ) : (
          <div className="workspace">
            <QueueList />
            <Conversation />
            <ContextPanel />
            <ShortcutsOverlay />
          </div>
        )}
        {/* Issue 18: the agent's softphone, registered wherever the agent is in the app. */}
        {worksQueue(user) ? (
          <Suspense fallback={null}>
            <Softphone />
          </Suspense>
        ) : null}
      </div>
    </StaffContext.Provider>
  );
}
