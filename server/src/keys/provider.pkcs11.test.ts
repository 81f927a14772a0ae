import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as graphene from 'graphene-pk11';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createSoftHsmToken, type SoftHsmToken } from '../../test/support/softhsm';
import { openKeyProvider } from './open';
import { keyProviderContract } from './provider.contract';
import { createPkcs11KeyProvider } from './provider.pkcs11';

// One SoftHSM2 token for the file (the module reads its token list once per process); each test
// gets a KEK label of its own, so "fresh provider" means a KEK the token has never seen.
const token: SoftHsmToken = createSoftHsmToken();
let labels = 0;
afterAll(() => token.cleanup());

keyProviderContract('PKCS#11 (SoftHSM2)', async () => {
  const options = { lib: token.lib, token: token.token, pin: token.pin, keyLabel: `kek-${++labels}` };
  return {
    provider: createPkcs11KeyProvider(options),
    reopen: async () => createPkcs11KeyProvider(options),
    cleanup: async () => {},
  };
});

/** Reads the token directly, as an auditor with the PIN would: the KEK's attributes. */
function kekAttributes(label: string): { sensitive: boolean; extractable: boolean; token: boolean; valueLen: number; count: number } {
  const module = graphene.Module.load(token.lib);
  try {
    module.initialize();
  } catch {
    /* initialised by the provider in this process */
  }
  const slots = module.getSlots(true);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    if (slot.getToken().label.trim() !== token.token) continue;
    const session = slot.open(graphene.SessionFlag.SERIAL_SESSION);
    try {
      try {
        session.login(token.pin);
      } catch {
        /* logged in by the provider */
      }
      const found = session.find({ class: graphene.ObjectClass.SECRET_KEY, label });
      const key = found.items(0).toType<graphene.SecretKey>();
      return {
        sensitive: key.sensitive,
        extractable: key.extractable,
        token: key.token,
        valueLen: key.getAttribute({ valueLen: null }).valueLen as number,
        count: found.length,
      };
    } finally {
      session.close();
    }
  }
  throw new Error('token not found');
}

describe('PKCS#11 key provider', () => {
  it('creates the labelled KEK on first start: on the token, AES-256, sensitive, not extractable; a second start finds it', async () => {
    const options = { lib: token.lib, token: token.token, pin: token.pin, keyLabel: 'kek-created' };
    const first = createPkcs11KeyProvider(options);
    const { plain, wrapped } = await first.generateDataKey();
    await first.close();
    expect(kekAttributes('kek-created')).toEqual({ sensitive: true, extractable: false, token: true, valueLen: 32, count: 1 });
    const second = createPkcs11KeyProvider(options);
    try {
      expect((await second.unwrapDataKey(wrapped)).equals(plain)).toBe(true);
      expect(kekAttributes('kek-created').count).toBe(1);
      expect(wrapped.kekId).toMatch(/^pkcs11:[0-9a-f]{16}$/);
    } finally {
      await second.close();
    }
  });

  it('wraps as IV ‖ AES-256-GCM ciphertext ‖ tag (60 bytes) with a fresh IV each time', async () => {
    const provider = createPkcs11KeyProvider({ lib: token.lib, token: token.token, pin: token.pin, keyLabel: 'kek-format' });
    try {
      const a = await provider.generateDataKey();
      const b = await provider.generateDataKey();
      expect(a.wrapped.wrapped).toHaveLength(60);
      expect(a.wrapped.wrapped.subarray(0, 12).equals(b.wrapped.wrapped.subarray(0, 12))).toBe(false);
      // A wrapped key cut short, or with its IV changed, is refused rather than unwrapped to garbage.
      await expect(provider.unwrapDataKey({ ...a.wrapped, wrapped: a.wrapped.wrapped.subarray(0, 59) })).rejects.toThrow(/wrong length/);
      const iv = Buffer.from(a.wrapped.wrapped);
      iv[0] = iv[0]! ^ 0x80;
      await expect(provider.unwrapDataKey({ ...a.wrapped, wrapped: iv })).rejects.toThrow(/integrity/);
    } finally {
      await provider.close();
    }
  });

  it('counts its calls into the module: one unwrap is one call', async () => {
    const provider = createPkcs11KeyProvider({ lib: token.lib, token: token.token, pin: token.pin, keyLabel: 'kek-count' });
    try {
      const { wrapped } = await provider.generateDataKey();
      const before = provider.calls;
      await provider.unwrapDataKey(wrapped);
      expect(provider.calls - before).toBe(1);
    } finally {
      await provider.close();
    }
  });

  it('opens again from its spec (what the session writer thread does)', async () => {
    const provider = createPkcs11KeyProvider({ lib: token.lib, token: token.token, pin: token.pin, keyLabel: 'kek-spec' });
    const { plain, wrapped } = await provider.generateDataKey();
    const again = openKeyProvider(provider.spec);
    try {
      expect(again.kind).toBe('pkcs11');
      expect((await again.unwrapDataKey(wrapped)).equals(plain)).toBe(true);
    } finally {
      await again.close();
      await provider.close();
    }
  });

  it('names what is wrong: unknown token, wrong PIN, missing module', () => {
    expect(() => createPkcs11KeyProvider({ lib: token.lib, token: 'no-such-token', pin: token.pin, keyLabel: 'k' })).toThrow(
      /HUILIU_PKCS11_TOKEN/,
    );
    expect(() => createPkcs11KeyProvider({ lib: token.lib, token: token.token, pin: 'wrong-pin', keyLabel: 'k' })).toThrow(
      /HUILIU_PKCS11_PIN/,
    );
    expect(() => createPkcs11KeyProvider({ lib: '/nonexistent/libpkcs11.so', token: token.token, pin: token.pin, keyLabel: 'k' })).toThrow(
      /HUILIU_PKCS11_LIB/,
    );
  });

  it('keeps the data keys it hands out off the token files (only the KEK object is stored)', async () => {
    const provider = createPkcs11KeyProvider({ lib: token.lib, token: token.token, pin: token.pin, keyLabel: 'kek-files' });
    try {
      const { plain } = await provider.generateDataKey();
      const files = (function walk(dir: string): string[] {
        return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
      })(token.dir);
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(readFileSync(f).includes(plain)).toBe(false);
      // softhsm2-util lists the token as initialised and holding our objects.
      expect(execFileSync('softhsm2-util', ['--show-slots'], { env: process.env }).toString()).toContain(token.token);
    } finally {
      await provider.close();
    }
  });
});

describe('PKCS#11 token shared with other nodes', () => {
  it('starts while another node destroys a key between the search and the read (CKR_OBJECT_HANDLE_INVALID)', async () => {
    const base = { lib: token.lib, token: token.token, pin: token.pin };
    // Another deployment's KEK on the same token; "another node" destroys it right after this
    // provider's search of all AES keys found it, before the provider reads its label.
    await createPkcs11KeyProvider({ ...base, keyLabel: 'kek-vanishing' }).close();
    const find = graphene.Session.prototype.find;
    let destroyed = 0;
    const spy = vi.spyOn(graphene.Session.prototype, 'find').mockImplementation(function (this: graphene.Session, template) {
      const found = find.call(this, template);
      if (template && !('label' in template)) {
        const victim = find.call(this, { class: graphene.ObjectClass.SECRET_KEY, label: 'kek-vanishing' });
        if (victim.length > 0) {
          victim.items(0).destroy();
          destroyed++;
        }
      }
      return found;
    });
    try {
      const provider = createPkcs11KeyProvider({ ...base, keyLabel: 'kek-beside-a-vanishing-key' });
      try {
        expect(destroyed).toBe(1);
        const { plain, wrapped } = await provider.generateDataKey();
        expect((await provider.unwrapDataKey(wrapped)).equals(plain)).toBe(true);
      } finally {
        await provider.close();
      }
    } finally {
      spy.mockRestore();
    }
  });
});

describe('PKCS#11 from several threads of one process', () => {
  it('wraps and unwraps on one token from four threads at once without an error (C_Initialize with CKF_OS_LOCKING_OK)', () => {
    // A child process: without the flag SoftHSM2 corrupted its heap (`free(): invalid pointer`) or
    // answered CKR_GENERAL_ERROR, which must fail this test, not kill the test runner.
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '__fixtures__', 'hsm-threads.ts'), token.lib, token.token, token.pin, 'kek-threads', '4', '1500'],
      { encoding: 'utf8', env: process.env, timeout: 120_000 },
    );
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const tally = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { ok: number; failed: number; errors: string[] };
    expect(tally).toEqual({ ok: 6000, failed: 0, errors: [] });
  }, 150_000);

  it('the main thread closing its last provider while another thread is in the module does not finalise under it (review6)', () => {
    // C_Finalize ends every thread's sessions: SIGSEGV on the old code, in a child process.
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '__fixtures__', 'hsm-finalize.ts'), token.lib, token.token, token.pin, 'kek-finalize', '3000'],
      { encoding: 'utf8', env: process.env, timeout: 120_000 },
    );
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const tally = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { ok: number; failed: number; errors: string[] };
    expect(tally).toEqual({ ok: 3000, failed: 0, errors: [] });
  }, 150_000);

  it('threads opening their first provider at the same moment initialise the module once, round after round (review6)', () => {
    // Six threads race C_Initialize, five rounds (the main thread finalises between them). On the old
    // code a thread answered CKR_CRYPTOKI_ALREADY_INITIALIZED went on into a half-initialised library:
    // the token then refused the PIN (CKR_USER_PIN_NOT_INITIALIZED) or the process died (SIGSEGV).
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, '__fixtures__', 'hsm-init-race.ts'),
        token.lib,
        token.token,
        token.pin,
        'kek-init-race',
        '6',
        '5',
      ],
      { encoding: 'utf8', env: process.env, timeout: 240_000 },
    );
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const tally = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { ok: number; failed: number; errors: string[] };
    expect(tally).toEqual({ ok: 30, failed: 0, errors: [] });
  }, 300_000);
});

describe('PKCS#11 rotation cut short by a crash', () => {
  const opts = (keyLabel: string) => ({ lib: token.lib, token: token.token, pin: token.pin, keyLabel });

  it('makes a new KEK left under the temporary label current when there is no current one', async () => {
    // A provider for the label `x.next` creates a KEK with that label: what a crash mid-rotation leaves.
    const orphan = createPkcs11KeyProvider(opts('kek-crash-a.next'));
    const { plain, wrapped } = await orphan.generateDataKey();
    await orphan.close();
    const provider = createPkcs11KeyProvider(opts('kek-crash-a'));
    try {
      expect(provider.kekStatus()).toEqual({ current: wrapped.kekId, previous: [] });
      expect((await provider.unwrapDataKey(wrapped)).equals(plain)).toBe(true);
      expect(kekAttributes('kek-crash-a').count).toBe(1);
    } finally {
      await provider.close();
    }
  });

  it('drops a temporary KEK beside a current one (the rotation never returned)', async () => {
    const current = createPkcs11KeyProvider(opts('kek-crash-b'));
    const kept = current.kekStatus().current;
    await current.close();
    const orphan = createPkcs11KeyProvider(opts('kek-crash-b.next'));
    await orphan.close();
    const provider = createPkcs11KeyProvider(opts('kek-crash-b'));
    try {
      expect(provider.kekStatus()).toEqual({ current: kept, previous: [] });
      expect(() => kekAttributes('kek-crash-b.next')).toThrow();
    } finally {
      await provider.close();
    }
  });
});
