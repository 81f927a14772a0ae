import { useEffect, useState, type FormEvent } from 'react';
import { fetchSignInProviders, type SignInProviders } from '../api/http';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';
import { ServerError } from './ServerError';
import { LanguageSwitch } from './LanguageSwitch';

export function Login({ providers: given }: { providers?: SignInProviders } = {}) {
  const login = useWorkstation((s) => s.login);
  const loggingIn = useWorkstation((s) => s.loggingIn);
  const error = useWorkstation((s) => s.loginError ?? s.linkError);
  const { t } = useTranslation('desk', { keyPrefix: 'login' });
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Enterprise sign-in (issue 17): offered when the server has an OpenID provider configured.
  const [providers, setProviders] = useState<SignInProviders>(given ?? { oidc: null });
  useEffect(() => {
    if (given) return;
    let live = true;
    void fetchSignInProviders().then((p) => live && setProviders(p));
    return () => {
      live = false;
    };
  }, [given]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void login(username.trim(), password);
  };

  return (
    <main className="login">
      <div className="login__lang">
        <LanguageSwitch />
      </div>
      <form className="login__card" onSubmit={submit} aria-label={t('form')}>
        <h1 className="login__brand">
          汇流 <span>Huiliu</span>
        </h1>
        <p className="login__sub">{t('sub')}</p>
        <label>
          {t('username')}
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            autoFocus
          />
        </label>
        <label>
          {t('password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error ? (
          <p className="login__error" role="alert">
            <ServerError stored={error} />
          </p>
        ) : null}
        <button type="submit" disabled={loggingIn}>
          {loggingIn ? t('submitting') : t('submit')}
        </button>
        {providers.oidc ? (
          <>
            <p className="login__or">{t('or')}</p>
            {/* A full-page navigation: the provider's sign-in page, then back to /app/ with a hand-over code. */}
            <a className="login__sso" href={providers.oidc.startUrl}>
              {t('signInWith', { name: providers.oidc.name })}
            </a>
          </>
        ) : null}
      </form>
    </main>
  );
}
