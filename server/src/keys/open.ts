import type { KeyProvider, KeyProviderSpec } from './provider';
import { createLocalKeyProvider } from './provider.local';

/** Opens the provider a `KeyProviderSpec` describes (e.g. in a worker thread). */
export function openKeyProvider(spec: KeyProviderSpec): KeyProvider {
  switch (spec.kind) {
    case 'local':
      return createLocalKeyProvider(spec.dir);
  }
}
