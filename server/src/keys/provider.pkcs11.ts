import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';
import * as graphene from 'graphene-pk11';
import { HuiliuError } from '../../../common/errors/codes';
import { KEY_BYTES } from '../crypto/aead';
import { SharedKeyState, type KekStatus, type KeyProvider, type WrappedKey } from './provider';

/** Bytes of the GCM nonce in a wrapped key (NIST SP 800-38D §8.2.2: 96 bits, random). */
const IV_BYTES = 12;
/** Bytes of the GCM tag at the end of a wrapped key. */
const TAG_BYTES = 16;
/** Bytes of the random CKA_ID the server gives a KEK it creates; the KEK id names it. */
const KEK_ID_BYTES = 8;

/** Where the KEK lives: the PKCS#11 module, the token by its label, the user PIN and the key's label (DESIGN §6). */
export interface Pkcs11Options {
  /** Path of the PKCS#11 module (`HUILIU_PKCS11_LIB`, e.g. /usr/lib/softhsm/libsofthsm2.so). */
  lib: string;
  /** Label of the initialised token (`HUILIU_PKCS11_TOKEN`). */
  token: string;
  /** The token's user PIN (`HUILIU_PKCS11_PIN`). Held by the provider only; never logged. */
  pin: string;
  /** Label of the AES-256 KEK (`HUILIU_PKCS11_KEY`); created on first start when the token has none. */
  keyLabel: string;
  /** The shared state of a provider this one reopens in another thread (`spec.shared`); fresh when absent. */
  shared?: SharedArrayBuffer;
}

/**
 * Modules this thread has loaded and initialised, with how many providers use each. PKCS#11's
 * C_Initialize/C_Finalize are per process (PKCS#11 v2.40 §5.4): a second C_Initialize answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED (another thread, e.g. the session writer, got there first) and
 * only the main thread finalises, when its last provider closes and no other thread holds one
 * (`lifecycle` below).
 */
const modules = new Map<string, { module: graphene.Module; users: number }>();

/**
 * `CK_C_INITIALIZE_ARGS.flags` bit CKF_OS_LOCKING_OK (PKCS#11 v2.40 §5.4, value 0x00000002): the
 * library may use the operating system's locks. The server calls the module from several threads (the
 * main thread, the session writer, CPU workers); without this flag C_Initialize(NULL) tells the library
 * that no two threads call it at once, and SoftHSM2 then races: concurrent wraps from two threads
 * answered CKR_GENERAL_ERROR (a 500 on a customer's first message, found by the scale-out lane) or
 * corrupted the heap (`free(): invalid pointer`, the process killed).
 */
const CKF_OS_LOCKING_OK = 0x00000002;

/**
 * The module's life across the process's threads: `[0]` counts the providers open in threads other
 * than the main one, `[1]` is a lock held around C_Initialize and C_Finalize. One SharedArrayBuffer the
 * main thread puts in the worker environment data (`setEnvironmentData`), so every thread started after
 * this module loaded shares it. The main thread's C_Finalize ends every thread's sessions: finalising
 * while another thread was in the module crashed the process (SIGSEGV in SoftHSM2), so the main thread
 * finalises only when no other thread holds a provider (else it leaves the module initialised; the
 * process's exit ends it). And C_Initialize is not safe against itself: a thread answered
 * CKR_CRYPTOKI_ALREADY_INITIALIZED while another was still initialising went on into a half-made
 * library (SIGSEGV when several threads opened their first provider at once): under the lock, it waits.
 */
const LIFECYCLE = 'huiliu:pkcs11-lifecycle';
if (isMainThread && getEnvironmentData(LIFECYCLE) === undefined) setEnvironmentData(LIFECYCLE, new SharedArrayBuffer(8));
const lifecycle = (() => {
  const buffer = getEnvironmentData(LIFECYCLE);
  return buffer instanceof SharedArrayBuffer ? new Int32Array(buffer) : null;
})();
const OTHER_THREADS = 0;
const LOCK = 1;

/** Runs `step` holding the lifecycle lock (every thread of the process; Atomics.wait blocks this one meanwhile). */
function underLock<T>(step: () => T): T {
  if (!lifecycle) return step();
  while (Atomics.compareExchange(lifecycle, LOCK, 0, 1) !== 0) Atomics.wait(lifecycle, LOCK, 1, 50);
  try {
    return step();
  } finally {
    Atomics.store(lifecycle, LOCK, 0);
    Atomics.notify(lifecycle, LOCK);
  }
}

function loadModule(lib: string): graphene.Module {
  const known = modules.get(lib);
  if (known) {
    known.users++;
    return known.module;
  }
  return underLock(() => {
    const module = loadNew(lib);
    if (!isMainThread && lifecycle) Atomics.add(lifecycle, OTHER_THREADS, 1);
    return module;
  });
}

function loadNew(lib: string): graphene.Module {
  let module: graphene.Module;
  try {
    module = graphene.Module.load(lib);
  } catch (error) {
    throw new HuiliuError('NOT_READY', `HUILIU_PKCS11_LIB: cannot load the PKCS#11 module ${lib}: ${(error as Error).message}`);
  }
  try {
    module.initialize({ flags: CKF_OS_LOCKING_OK });
  } catch (error) {
    if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test((error as Error).message)) throw error;
  }
  modules.set(lib, { module, users: 1 });
  return module;
}

function releaseModule(lib: string): void {
  const known = modules.get(lib);
  if (!known || --known.users > 0) return;
  modules.delete(lib);
  if (!isMainThread) {
    if (lifecycle) Atomics.sub(lifecycle, OTHER_THREADS, 1);
    return;
  }
  underLock(() => {
    // Another thread still holds a provider: finalising would end its sessions under it.
    if (lifecycle && Atomics.load(lifecycle, OTHER_THREADS) > 0) return;
    try {
      known.module.finalize();
    } catch {
      /* already finalised */
    }
  });
}

/**
 * Scale-out KEK behind a PKCS#11 token (an HSM; SoftHSM2 in tests), DESIGN §2 and §8. The KEK is an
 * AES-256 secret key object on the token, labelled `keyLabel`: token-resident, `CKA_SENSITIVE`, not
 * `CKA_EXTRACTABLE`, usable only to encrypt and decrypt. The server creates it on first start when
 * the token has none by that label. Data keys are 32 bytes from the token's RNG (C_GenerateRandom),
 * wrapped by AES-256-GCM on the token (CKM_AES_GCM, a random 96-bit IV, 128-bit tag, AAD
 * `kek:<kekId>`): `wrapped = IV ‖ ciphertext ‖ tag`. Unwrapping checks the tag on the token, so an
 * altered wrapped key is refused.
 *
 * `kekId` is `pkcs11:<CKA_ID hex>` (8 random bytes given at creation): a KEK created by another
 * server with the same label (another token) has another id, and a data key it wrapped is refused by
 * id before the token is asked. Rotation (issue 14) relabels the current KEK `<label>@<id hex>` (kept
 * to unwrap until retired) and makes a new one `<label>`; every thread sharing the spec reloads at
 * once (shared epoch), other nodes on the same token when they meet an id they do not know.
 *
 * Calls are synchronous in the module and serialised on one session per provider; users cache
 * unwrapped data keys, so a message costs no call (`calls` counts them, across threads, for tests and metrics).
 * @throws HuiliuError NOT_READY when the module cannot load, the token is not found, or the PIN is refused
 */
export function createPkcs11KeyProvider(options: Pkcs11Options): KeyProvider {
  const module = loadModule(options.lib);
  let session: graphene.Session | undefined;
  try {
    const slots = module.getSlots(true);
    let slot: graphene.Slot | undefined;
    for (let i = 0; i < slots.length; i++) {
      const candidate = slots.items(i);
      if (candidate.getToken().label.trim() === options.token) {
        slot = candidate;
        break;
      }
    }
    if (!slot) throw new HuiliuError('NOT_READY', `HUILIU_PKCS11_TOKEN: no initialised token labelled ${JSON.stringify(options.token)}`);
    session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    try {
      session.login(options.pin, graphene.UserType.USER);
    } catch (error) {
      // Another provider of this process logged the token in already (login state is per token).
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test((error as Error).message)) {
        throw new HuiliuError('NOT_READY', `HUILIU_PKCS11_PIN: the token refused the login (${(error as Error).message})`);
      }
    }
  } catch (error) {
    session?.close();
    releaseModule(options.lib);
    throw error;
  }
  const s = session;

  const shared = new SharedKeyState(options.shared);
  /** KEKs by id: the current one is labelled `keyLabel`, earlier ones `keyLabel@<id hex>` (kept to unwrap). */
  let keks = new Map<string, graphene.SecretKey>();
  let current = '';
  let epoch = -1;
  const retiredLabel = (idHex: string) => `${options.keyLabel}@${idHex}`;
  const idOf = (key: graphene.SecretKey) => `pkcs11:${key.id.toString('hex')}`;
  const labelled = (label: string) => s.find({ class: graphene.ObjectClass.SECRET_KEY, keyType: graphene.KeyType.AES, label });

  function createKek(label: string): graphene.SecretKey {
    shared.count(2);
    return s.generateKey(graphene.KeyGenMechanism.AES, {
      keyType: graphene.KeyType.AES,
      label,
      id: s.generateRandom(KEK_ID_BYTES),
      valueLen: KEY_BYTES,
      token: true,
      private: true,
      sensitive: true,
      extractable: false,
      encrypt: true,
      decrypt: true,
      wrap: false,
      unwrap: false,
      sign: false,
      verify: false,
      derive: false,
    });
  }

  /**
   * Item `i` of a search of the token's AES keys when it is one of this label's earlier KEKs
   * (`keyLabel@<id hex>`), else null. Null too when the object is gone: a token is shared by every node
   * (and holds other deployments' keys), and another one may destroy or relabel a key between
   * `C_FindObjects` and reading its attributes — the read then answers CKR_OBJECT_HANDLE_INVALID, which
   * must not stop this node's start or its reload after a rotation.
   */
  function retiredKek(list: graphene.SessionObjectCollection, i: number): { id: string; key: graphene.SecretKey } | null {
    try {
      const key = list.items(i).toType<graphene.SecretKey>();
      return key.label.startsWith(`${options.keyLabel}@`) ? { id: idOf(key), key } : null;
    } catch (error) {
      if (/CKR_OBJECT_HANDLE_INVALID/.test(String((error as Error).message))) return null;
      throw error;
    }
  }

  /**
   * Reads the KEKs from the token, finishing or undoing a rotation a crash cut short (a key labelled
   * `<label>.next` becomes current when none is; beside a current one it never wrapped anything).
   */
  function load(): void {
    let found = labelled(options.keyLabel);
    const next = labelled(`${options.keyLabel}.next`);
    if (next.length > 0) {
      if (found.length === 0) next.items(0).toType<graphene.SecretKey>().label = options.keyLabel;
      else next.items(0).destroy();
      found = labelled(options.keyLabel);
    }
    if (found.length > 1) {
      throw new HuiliuError(
        'NOT_READY',
        `HUILIU_PKCS11_KEY: the token holds ${found.length} keys labelled ${JSON.stringify(options.keyLabel)}; keep one`,
      );
    }
    const kek = found.length === 1 ? found.items(0).toType<graphene.SecretKey>() : createKek(options.keyLabel);
    const ring = new Map<string, graphene.SecretKey>([[idOf(kek), kek]]);
    const all = s.find({ class: graphene.ObjectClass.SECRET_KEY, keyType: graphene.KeyType.AES });
    for (let i = 0; i < all.length; i++) {
      const earlier = retiredKek(all, i);
      if (earlier) ring.set(earlier.id, earlier.key);
    }
    shared.count(2);
    keks = ring;
    current = idOf(kek);
    epoch = shared.epoch;
  }
  const fresh = () => {
    if (epoch !== shared.epoch) load();
  };
  try {
    load();
  } catch (error) {
    s.close();
    releaseModule(options.lib);
    throw error;
  }
  let closed = false;

  function live(): graphene.Session {
    if (closed) throw new HuiliuError('SHUTTING_DOWN', 'the key provider is closed');
    fresh();
    return s;
  }

  function wrapWith(session: graphene.Session, plain: Buffer): WrappedKey {
    shared.count(2);
    const iv = session.generateRandom(IV_BYTES);
    const aad = Buffer.from(`kek:${current}`);
    const cipher = session.createCipher(
      { name: 'AES_GCM', params: new graphene.AesGcm240Params(iv, aad, TAG_BYTES * 8) },
      keks.get(current)!,
    );
    const sealed = cipher.once(plain, Buffer.alloc(KEY_BYTES + TAG_BYTES));
    return { kekId: current, wrapped: Buffer.concat([iv, sealed]) };
  }
  const status = (): KekStatus => ({ current, previous: [...keks.keys()].filter((k) => k !== current) });

  return {
    kind: 'pkcs11',
    spec: { kind: 'pkcs11', lib: options.lib, token: options.token, pin: options.pin, keyLabel: options.keyLabel, shared: shared.buffer },
    get calls() {
      return shared.calls;
    },
    async generateDataKey() {
      const session = live();
      shared.count();
      const plain = Buffer.from(session.generateRandom(KEY_BYTES));
      return { plain, wrapped: wrapWith(session, plain) };
    },
    async wrapDataKey(plain) {
      if (plain.length !== KEY_BYTES) throw new HuiliuError('VALIDATION_FAILED', 'a data key is 32 bytes');
      return wrapWith(live(), plain);
    },
    async unwrapDataKey(w) {
      let session = live();
      // Another node may have rotated the KEK on the shared token: look for it once.
      if (!keks.has(w.kekId) && w.kekId.startsWith('pkcs11:')) {
        load();
        session = s;
      }
      const kek = keks.get(w.kekId);
      if (!kek) throw new HuiliuError('INTERNAL', `data key was wrapped by ${w.kekId}, which this token does not hold`);
      if (w.wrapped.length !== IV_BYTES + KEY_BYTES + TAG_BYTES)
        throw new HuiliuError('INTERNAL', 'a wrapped data key has the wrong length');
      shared.count();
      const iv = w.wrapped.subarray(0, IV_BYTES);
      const aad = Buffer.from(`kek:${w.kekId}`);
      const decipher = session.createDecipher({ name: 'AES_GCM', params: new graphene.AesGcm240Params(iv, aad, TAG_BYTES * 8) }, kek);
      try {
        return Buffer.from(decipher.once(w.wrapped.subarray(IV_BYTES), Buffer.alloc(KEY_BYTES + TAG_BYTES)));
      } catch {
        // The token refuses a bad tag (SoftHSM2 says CKR_GENERAL_ERROR or CKR_ENCRYPTED_DATA_INVALID).
        throw new HuiliuError('INTERNAL', 'a wrapped data key failed its integrity check');
      }
    },
    kekStatus() {
      live();
      return status();
    },
    async rotateKek() {
      live();
      const was = keks.get(current)!;
      // The new KEK is made under a temporary label, then the labels move: a crash between the steps
      // leaves one current KEK (load() finishes or undoes the move).
      const next = createKek(`${options.keyLabel}.next`);
      was.label = retiredLabel(was.id.toString('hex'));
      next.label = options.keyLabel;
      shared.count(2);
      shared.bump();
      load();
      return status();
    },
    async retireKek(kekId) {
      live();
      if (kekId === current) throw new HuiliuError('VALIDATION_FAILED', 'the current KEK cannot be retired; rotate first');
      const key = keks.get(kekId);
      if (!key) throw new HuiliuError('NOT_FOUND', `no KEK ${kekId}`);
      key.destroy();
      shared.count();
      shared.bump();
      load();
      return status();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        s.close();
      } finally {
        releaseModule(options.lib);
      }
    },
  };
}
