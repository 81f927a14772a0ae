import type { KeyProvider, KeyProviderSpec } from './provider';
import { createLocalKeyProvider } from './provider.local';
import { createPkcs11KeyProvider } from './provider.pkcs11';

/** Opens the provider a `KeyProviderSpec` describes (e.g. in a worker thread). */
export function openKeyProvider(spec: KeyProviderSpec): KeyProvider {
  switch (spec.kind) {
    case 'local':
      return createLocalKeyProvider(spec.dir, spec.shared);
    case 'pkcs11':
      return createPkcs11KeyProvider(spec);
  }
}
