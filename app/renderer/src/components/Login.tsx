import { useState, type FormEvent } from 'react';
import { useWorkstation } from '../context';

export function Login() {
  const login = useWorkstation((s) => s.login);
  const loggingIn = useWorkstation((s) => s.loggingIn);
  const error = useWorkstation((s) => s.loginError ?? s.linkError);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void login(username.trim(), password);
  };

  return (
    <main className="login">
      <form className="login__card" onSubmit={submit} aria-label="Sign in">
        <h1 className="login__brand">
          汇流 <span>Huiliu</span>
        </h1>
        <p className="login__sub">Omnichannel workstation</p>
        <label>
          Username
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
          Password
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
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={loggingIn}>
          {loggingIn ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
