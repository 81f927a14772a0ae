import { describe, expect, it } from 'vitest';
import type { PrivacyRequestKind, PrivacyRequestView } from '../../../../common/api/privacy';
import { HuiliuError } from '../../../../common/errors/codes';
import { createPrivacyApi, filenameOf, type DownloadedExport, type PrivacyApi } from '../api/privacy';
import { createPrivacyFilingStore, createPrivacyQueueStore } from './privacy';

const CUSTOMER = '11111111-1111-4111-8111-111111111111';
let n = 0;
const request = (kind: PrivacyRequestKind, requestedBy: string, minute: number): PrivacyRequestView => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  kind,
  status: 'pending',
  customerId: CUSTOMER,
  sessionId: null,
  reason: 'the customer asked',
  requestedBy,
  requestedAt: new Date(Date.UTC(2026, 10, 30, 9, minute)).toISOString(),
  decidedBy: null,
  decidedAt: null,
  dueAt: new Date(Date.UTC(2026, 11, 30, 9, minute)).toISOString(),
  overdue: false,
  expiresAt: null,
  completedAt: null,
});

/** A fake server with the real rules: four eyes, pending only, an export downloadable once. */
function fakeServer(officer: string) {
  const rows: PrivacyRequestView[] = [];
  const calls: string[] = [];
  const pending = (kind: PrivacyRequestKind, id: string) => {
    const r = rows.find((x) => x.id === id && x.kind === kind);
    if (!r) throw new HuiliuError('PRIVACY_REQUEST_NOT_FOUND', 'No such privacy request.');
    if (r.requestedBy === officer)
      throw new HuiliuError('PRIVACY_SELF_APPROVAL', 'A request must be approved by someone other than the requester.');
    if (r.status !== 'pending') throw new HuiliuError('PRIVACY_REQUEST_NOT_PENDING', `The request is ${r.status}.`);
    return r;
  };
  const api: PrivacyApi = {
    async file(_t, kind, customerId, reason) {
      calls.push(`file ${kind} ${customerId} ${reason}`);
      const r = { ...request(kind, 'agent1-id', 30), customerId, reason };
      rows.push(r);
      return r;
    },
    async list(_t, kind) {
      calls.push(`list ${kind}`);
      return rows.filter((r) => r.kind === kind).map((r) => ({ ...r }));
    },
    async approve(_t, kind, id) {
      calls.push(`approve ${kind} ${id}`);
      const r = pending(kind, id);
      Object.assign(r, { status: kind === 'export' ? 'approved' : 'executed', decidedBy: officer, decidedAt: r.requestedAt });
      return { ...r };
    },
    async reject(_t, kind, id, note) {
      calls.push(`reject ${kind} ${id} ${note}`);
      const r = pending(kind, id);
      Object.assign(r, { status: 'rejected', decidedBy: officer, decidedAt: r.requestedAt });
      return { ...r };
    },
    async download(_t, id) {
      calls.push(`download ${id}`);
      const r = rows.find((x) => x.id === id)!;
      if (r.status !== 'approved') throw new HuiliuError('EXPORT_GONE', 'The export was already downloaded or has expired.');
      r.status = 'downloaded';
      return { json: `{"requestId":"${id}"}`, filename: `huiliu-export-${id}.json` };
    },
  };
  return { api, rows, calls };
}

describe('the privacy officer queue store', () => {
  it('lists exports and erasures together, newest first', async () => {
    const { api, rows } = fakeServer('officer-id');
    rows.push(request('export', 'agent1-id', 1), request('erasure', 'agent1-id', 5), request('export', 'lead-id', 3));
    const store = createPrivacyQueueStore(
      api,
      () => 'tok',
      () => undefined,
    );
    expect(store.getState().status).toBe('idle');
    await store.getState().load();
    expect(store.getState().status).toBe('ready');
    expect(store.getState().requests.map((r) => [r.kind, r.requestedAt.slice(11, 16)])).toEqual([
      ['erasure', '09:05'],
      ['export', '09:03'],
      ['export', '09:01'],
    ]);
  });

  it('approves and rejects with a note, then shows the server state', async () => {
    const { api, rows, calls } = fakeServer('officer-id');
    const a = request('export', 'agent1-id', 1);
    const b = request('erasure', 'agent1-id', 2);
    rows.push(a, b);
    const store = createPrivacyQueueStore(
      api,
      () => 'tok',
      () => undefined,
    );
    await store.getState().load();
    await store.getState().approve(store.getState().requests.find((r) => r.id === a.id)!);
    await store.getState().reject(
      store.getState().requests.find((r) => r.id === b.id)!,
      'not the account holder',
    );
    expect(calls).toContain(`reject erasure ${b.id} not the account holder`);
    expect(store.getState().error).toBeNull();
    expect(store.getState().busy).toBeNull();
    expect(Object.fromEntries(store.getState().requests.map((r) => [r.id, r.status]))).toEqual({ [a.id]: 'approved', [b.id]: 'rejected' });
  });

  it("keeps the server's refusal of self-approval, for that request", async () => {
    const { api, rows } = fakeServer('officer-id');
    const own = request('erasure', 'officer-id', 1);
    rows.push(own);
    const store = createPrivacyQueueStore(
      api,
      () => 'tok',
      () => undefined,
    );
    await store.getState().load();
    await store.getState().approve(store.getState().requests[0]!);
    expect(store.getState().error).toEqual({
      code: 'PRIVACY_SELF_APPROVAL',
      message: 'A request must be approved by someone other than the requester.',
      requestId: own.id,
    });
    expect(store.getState().requests[0]!.status).toBe('pending');
  });

  it('downloads an approved export once: the file is saved, a second try is EXPORT_GONE', async () => {
    const { api, rows } = fakeServer('officer-id');
    const e = { ...request('export', 'agent1-id', 1), status: 'approved' as const };
    rows.push(e);
    const saved: DownloadedExport[] = [];
    const store = createPrivacyQueueStore(
      api,
      () => 'tok',
      (f) => saved.push(f),
    );
    await store.getState().load();
    const stale = store.getState().requests[0]!;
    await store.getState().download(stale);
    expect(saved).toEqual([{ json: `{"requestId":"${e.id}"}`, filename: `huiliu-export-${e.id}.json` }]);
    expect(store.getState().downloaded).toEqual([e.id]);
    expect(store.getState().requests[0]!.status).toBe('downloaded');
    await store.getState().download(stale);
    expect(saved).toHaveLength(1);
    expect(store.getState().error?.code).toBe('EXPORT_GONE');
  });

  it('says "network" when the server does not answer', async () => {
    const api = createPrivacyApi({
      fetch: async () => {
        throw new TypeError('offline');
      },
    });
    const store = createPrivacyQueueStore(
      api,
      () => 'tok',
      () => undefined,
    );
    await store.getState().load();
    expect(store.getState().error).toEqual({ code: 'network', message: null });
    expect(store.getState().status).toBe('ready');
  });
});

describe('filing a request from the customer panel', () => {
  it('refuses a too short reason without calling the server, then files with the trimmed reason', async () => {
    const { api, calls } = fakeServer('officer-id');
    const store = createPrivacyFilingStore(api, () => 'tok');
    store.getState().open('export');
    store.getState().setReason('  x ');
    await store.getState().submit(CUSTOMER);
    expect(store.getState().error).toEqual({ code: 'reason', message: null });
    expect(calls).toEqual([]);
    store.getState().setReason('  the customer asked by email  ');
    await store.getState().submit(CUSTOMER);
    expect(calls).toEqual([`file export ${CUSTOMER} the customer asked by email`]);
    const filed = store.getState().filed!;
    expect(filed.kind).toBe('export');
    expect(filed.status).toBe('pending');
    expect(store.getState().kind).toBeNull();
    expect(store.getState().error).toBeNull();
  });

  it("keeps the server's refusal (an erased customer)", async () => {
    const { api } = fakeServer('officer-id');
    api.file = async () => {
      throw new HuiliuError('CUSTOMER_ERASED', "This customer's data was erased.");
    };
    const store = createPrivacyFilingStore(api, () => 'tok');
    store.getState().open('erasure');
    store.getState().setReason('right to be forgotten');
    await store.getState().submit(CUSTOMER);
    expect(store.getState().error).toEqual({ code: 'CUSTOMER_ERASED', message: "This customer's data was erased." });
    expect(store.getState().filed).toBeNull();
    expect(store.getState().kind).toBe('erasure');
  });
});

describe('the privacy REST client', () => {
  it('posts the request with the bearer token and reads the download as text with its file name', async () => {
    const seen: { url: string; init?: RequestInit }[] = [];
    const api = createPrivacyApi({
      base: 'https://h',
      fetch: async (url, init) => {
        seen.push({ url, ...(init ? { init } : {}) });
        if (url.endsWith('/download'))
          return new Response('{"format":"huiliu-export/1"}', {
            headers: { 'content-disposition': 'attachment; filename="huiliu-export-x.json"' },
          });
        return new Response(JSON.stringify(request('export', 'me', 1)), { status: 201 });
      },
    });
    await api.file('tok', 'erasure', CUSTOMER, 'asked');
    expect(seen[0]!.url).toBe('https://h/api/v1/privacy/erasures');
    expect(seen[0]!.init!.method).toBe('POST');
    expect(JSON.parse(seen[0]!.init!.body as string)).toEqual({ customerId: CUSTOMER, reason: 'asked' });
    expect((seen[0]!.init!.headers as Record<string, string>)['authorization']).toBe('Bearer tok');
    expect(await api.download('tok', 'abc')).toEqual({ json: '{"format":"huiliu-export/1"}', filename: 'huiliu-export-x.json' });
    expect(filenameOf(null, 'abc')).toBe('huiliu-export-abc.json');
  });

  it('turns a 410 into EXPORT_GONE with the server message', async () => {
    const api = createPrivacyApi({
      fetch: async () =>
        new Response(JSON.stringify({ error: { code: 'EXPORT_GONE', message: 'The export was already downloaded or has expired.' } }), {
          status: 410,
        }),
    });
    await expect(api.download('tok', 'abc')).rejects.toMatchObject({
      code: 'EXPORT_GONE',
      message: 'The export was already downloaded or has expired.',
    });
  });
});
