import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connectAgent } from './api/agent-socket';
import { createServerApi } from './api/http';
import { resolveBridge } from './bridge';
import { BridgeContext, StoreContext } from './context';
import { createWorkstationStore } from './stores/workstation';
import './styles.css';

// The renderer's composition root: the bridge (Electron preload or browser), the server API and
// the store are made here once and handed down.
const bridge = resolveBridge();
const store = createWorkstationStore({
  api: createServerApi(),
  bridge,
  connect: (token) => connectAgent(token),
  storage: window.sessionStorage,
});
store.getState().restore();
bridge.onFocusSession((sessionId) => void store.getState().openSession(sessionId));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BridgeContext.Provider value={bridge}>
      <StoreContext.Provider value={store}>
        <App />
      </StoreContext.Provider>
    </BridgeContext.Provider>
  </StrictMode>,
);
