import { useTranslation } from 'react-i18next';
import { codeOfStored, codeText, errorText, isKnownCode } from '../error-text';

/**
 * A server refusal as a sentence in the UI's language, with the stable code small after it (for
 * support: "OFFER_TAKEN"), issue 15 / docs/i18n.md. Give either `stored` (what a store kept: `errorKey`'s
 * `errors:codes.<CODE>` / `desk:errors.<key>`, or plain text) or `code` (+ the server's `message`, shown
 * only when the code has no sentence; `override`: a namespace prefix with the feature's own wording for
 * some codes, e.g. `privacyRequest:errors.`). Inline: the caller's banner (`role="alert"`) wraps it.
 */
export function ServerError(props: { stored: string } | { code: string; message?: string | null; override?: string }) {
  const { t, i18n } = useTranslation('errors');
  const code = 'stored' in props ? codeOfStored(props.stored) : props.code;
  const text = 'stored' in props ? errorText(i18n, props.stored) : codeText(i18n, props.code, props.message, props.override);
  return (
    <>
      <span data-testid="error-text">{text}</span>
      {code && isKnownCode(code) ? (
        <>
          {' '}
          <small className="error-code" data-testid="error-code" data-code={code} title={t('code', { code })}>
            {code}
          </small>
        </>
      ) : null}
    </>
  );
}
