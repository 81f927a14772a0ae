import { useWorkstation } from './context';
import { ContextPanel } from './components/ContextPanel';
import { Conversation } from './components/Conversation';
import { Login } from './components/Login';
import { QueueList } from './components/QueueList';
import { TopBar } from './components/TopBar';

export function App() {
  const signedIn = useWorkstation((s) => s.token !== null);
  if (!signedIn) return <Login />;
  return (
    <div className="shell">
      <TopBar />
      <div className="workspace">
        <QueueList />
        <Conversation />
        <ContextPanel />
      </div>
    </div>
  );
}
