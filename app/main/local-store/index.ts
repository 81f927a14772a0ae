export { LocalStore, type KeyMode, type LocalStoreOptions, type SafeStorageLike } from './store';
export { RecordSealer } from './sealing';
