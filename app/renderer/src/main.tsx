import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connectAgent } from './api/agent-socket';
import { createServerApi, ssoResultOf } from './api/http';
import { LOCALE_KEY, createI18n, initialLocale, localeOf } from './locale';
import { LocaleProvider } from './LocaleProvider';
import { resolveBridge } from './bridge';
import { BridgeContext, StoreContext } from './context';
import { createWorkstationStore } from './stores/workstation';
import './styles.css';

// The renderer's composition root: the bridge (Electron preload or browser), the server API,
// the store and the UI language (i18next) are made here once and handed down.
const i18n = createI18n(initialLocale(window.localStorage, navigator.languages));
const showLanguage = () => {
  document.documentElement.lang = localeOf(i18n) === 'zh' ? 'zh-CN' : 'en';
};
showLanguage();
i18n.on('languageChanged', () => {
  showLanguage();
  try {
    window.localStorage.setItem(LOCALE_KEY, localeOf(i18n));
  } catch {
    // storage disabled: the choice lasts for this window only
  }
});
const bridge = resolveBridge();
const store = createWorkstationStore({
  api: createServerApi(),
  bridge,
  connect: (token) => connectAgent(token),
  storage: window.sessionStorage,
  i18n,
});
store.getState().restore();
// Back from the organisation's sign-in page (issue 17): take the hand-over code out of the address first.
const sso = ssoResultOf(window.location.hash);
if (sso) {
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  // A refusal is kept as a `desk:` key: the sign-in page shows it in the language of the moment (error-text.ts).
  if ('handoff' in sso) void store.getState().loginWithSso(sso.handoff);
  else store.getState().ssoRefused(sso.error === 'FORBIDDEN' ? 'desk:login.ssoForbidden' : 'desk:login.ssoFailed');
}
bridge.onFocusSession((sessionId) => void store.getState().openSession(sessionId));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LocaleProvider i18n={i18n}>
      <BridgeContext.Provider value={bridge}>
        <StoreContext.Provider value={store}>
          <App />
        </StoreContext.Provider>
      </BridgeContext.Provider>
    </LocaleProvider>
  </StrictMode>,
);
