import type { UploadLimits } from '../../../../../common/web/widget-protocol';

/**
 * The pre-chat form's contact field: one box for an e-mail address or a phone number. Something with
 * an `@` is an e-mail (a simple `local@domain.tld` shape; the server checks again, RFC 5321 lengths:
 * at most 254 characters); otherwise a phone number of 5..20 digits that may start with `+` and use
 * spaces, dashes, dots and parentheses as separators (sent without them, E.164-like). Empty → `empty`.
 */
export function classifyContact(raw: string): { email: string } | { phone: string } | 'empty' | 'invalid' {
  const value = raw.trim();
  if (!value) return 'empty';
  if (value.includes('@')) {
    return value.length <= 254 && /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(value) ? { email: value } : 'invalid';
  }
  if (!/^\+?[0-9 ().-]+$/.test(value)) return 'invalid';
  const digits = value.replace(/[^0-9]/g, '');
  if (digits.length < 5 || digits.length > 20) return 'invalid';
  return { phone: `${value.startsWith('+') ? '+' : ''}${digits}` };
}

/**
 * Whether a file may be uploaded under the welcome's `limits` (the server checks again, by magic
 * bytes): `too-large` over `maxBytes`, `type` when its MIME type (as the browser names it) is not one
 * of `mimes`, `off` when uploads are off (`limits` null), else `ok`.
 */
export function checkUpload(file: { size: number; type: string }, limits: UploadLimits | null): 'ok' | 'off' | 'too-large' | 'type' {
  if (!limits) return 'off';
  if (!limits.mimes.includes(file.type.toLowerCase())) return 'type';
  if (file.size > limits.maxBytes) return 'too-large';
  return 'ok';
}
