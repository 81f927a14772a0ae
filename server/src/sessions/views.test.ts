import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserView } from '../../../common/api/auth';
import { MessageViewSchema, SessionDetailSchema, SessionSummarySchema } from '../../../common/api/sessions';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { draft } from './store.contract';
import type { SessionStore } from './store';
import { createSqliteSessionStore } from './store.sqlite';
import { messageEmotions, newestShown, SessionViews, type EmotionOf } from './views';

const ann: UserView = { id: 'ann', username: 'ann', displayName: 'Ann', roles: ['agent'], skillGroups: ['general'], expert: false };

/** A deterministic reader: "!!" is anger, "thanks" happiness, anything else neutral. Records what it read. */
function reader(): { emotionOf: EmotionOf; read: string[] } {
  const read: string[] = [];
  const emotionOf: EmotionOf = (text) => {
    read.push(text);
    if (text.includes('!!')) return { label: 'anger', intensity: 0.8234 };
    if (text.includes('thanks')) return { label: 'happiness', intensity: 0.7 };
    return { label: 'neutral', intensity: 0 };
  };
  return { emotionOf, read };
}

describe('session views carry the emotion of customer messages (issue 9)', () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-views-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
  });
  afterEach(async () => {
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const say = (text: string) => store.appendInbound(draft({ text }), { skillGroup: 'general' });
  const reply = (sessionId: string, text: string, n: number) =>
    store.appendOutbound({
      sessionId,
      authorId: 'ann',
      clientMessageId: `ann-${n}`,
      content: { kind: 'text', body: { text } },
      critical: true,
    });

  it("shows each customer message's emotion in the open view, none on the agent's replies", async () => {
    const { emotionOf } = reader();
    const views = new SessionViews(store, { emotionOf });
    const first = await say('where is my parcel');
    await say('this is the third time!!');
    await reply(first.session.id, 'Let me check.', 1);
    const detail = SessionDetailSchema.parse(await views.detail((await store.getSession(first.session.id))!, ann));
    expect(detail.messages.map((m) => [m.direction, m.emotion])).toEqual([
      ['in', { label: 'neutral', intensity: 0 }],
      ['in', { label: 'anger', intensity: 0.82 }],
      ['out', undefined],
    ]);
    expect(detail.messages[2]).not.toHaveProperty('emotion');
  });

  it("keeps the customer's newest emotion on the queue row after the agent replied last", async () => {
    const { emotionOf } = reader();
    const views = new SessionViews(store, { emotionOf });
    const first = await say('this is the third time!!');
    await reply(first.session.id, 'Sorry, looking now.', 1);
    await reply(first.session.id, 'Found it.', 2);
    const summary = SessionSummarySchema.parse(await views.summary((await store.getSession(first.session.id))!));
    expect(summary.lastMessagePreview).toBe('Found it.');
    expect(summary.emotion).toEqual({ label: 'anger', intensity: 0.82 });
    await say('great, thanks');
    expect((await views.summary((await store.getSession(first.session.id))!)).emotion).toEqual({ label: 'happiness', intensity: 0.7 });
  });

  it("never shows an internal note as the queue row's preview", async () => {
    const views = new SessionViews(store);
    const first = await say('where is my parcel');
    await reply(first.session.id, 'Let me check.', 1);
    for (let n = 0; n < 3; n++) {
      await store.appendOutbound({
        sessionId: first.session.id,
        authorId: 'ann',
        clientMessageId: `note-${n}`,
        content: {
          kind: 'event',
          body: {
            name: 'staff.note',
            data: { text: `NOTE-${n} customer sounds upset`, author: { id: 'ann', name: 'Ann' }, whisper: false, to: null },
          },
        },
        critical: true,
      });
    }
    const session = (await store.getSession(first.session.id))!;
    expect((await views.summary(session)).lastMessagePreview).toBe('Let me check.');
    // Also when the caller hands the note in as the newest message.
    const note = (await store.lastMessage(first.session.conversationId))!;
    expect((await views.summary(session, note)).lastMessagePreview).toBe('Let me check.');
    expect(await newestShown(store, first.session.conversationId)).toMatchObject({ seq: 2 });
  });

  it('reads each message once however often it is shown', async () => {
    const { emotionOf, read } = reader();
    const views = new SessionViews(store, { emotionOf });
    const first = await say('one!!');
    await say('two');
    const session = (await store.getSession(first.session.id))!;
    for (let i = 0; i < 3; i++) await views.detail(session, ann);
    expect(read.sort()).toEqual(['one!!', 'two']);
  });

  it('skips a read the budget refuses, remembers nothing for it, and reads it once the budget allows', async () => {
    const { emotionOf, read } = reader();
    let allowed = false;
    const emotions = messageEmotions(emotionOf, { allow: () => allowed });
    const { envelope } = await say('not again!!');
    expect(emotions(envelope)).toBeUndefined();
    expect(read).toEqual([]);
    allowed = true;
    expect(emotions(envelope)?.label).toBe('anger');
    allowed = false;
    // Known now: no budget needed to show it again.
    expect(emotions(envelope)?.label).toBe('anger');
    expect(read).toEqual(['not again!!']);
  });

  it('adds nothing when no emotion reader is given', async () => {
    const views = new SessionViews(store);
    const first = await say('this is the third time!!');
    const session = (await store.getSession(first.session.id))!;
    const detail = await views.detail(session, ann);
    expect(detail).not.toHaveProperty('emotion');
    expect(detail.messages[0]).not.toHaveProperty('emotion');
    expect(views.message(first.envelope)).not.toHaveProperty('emotion');
  });

  it('reads the words of an image caption, and nothing of a file', async () => {
    const { emotionOf, read } = reader();
    const emotions = messageEmotions(emotionOf);
    const image = await store.appendInbound(
      draft({ content: { kind: 'image', body: { attachmentId: 'att-1', mime: 'image/png', size: 1024, caption: 'broken on arrival!!' } } }),
      { skillGroup: 'general' },
    );
    const file = await store.appendInbound(
      draft({ content: { kind: 'file', body: { attachmentId: 'att-2', name: 'invoice!!.pdf', mime: 'application/pdf', size: 2048 } } }),
      { skillGroup: 'general' },
    );
    expect(emotions(image.envelope)).toEqual({ label: 'anger', intensity: 0.82 });
    expect(emotions(file.envelope)).toBeUndefined();
    expect(read).toEqual(['broken on arrival!!']);
    expect(MessageViewSchema.parse(new SessionViews(store, { emotionOf }).message(image.envelope)).emotion?.label).toBe('anger');
  });

  it('shows no emotion when the reader fails, and logs the message id but never the text', async () => {
    const warnings: unknown[] = [];
    const secret = 'my card 6222 0202 0000 1234 was charged twice!!';
    const views = new SessionViews(store, {
      emotionOf: (text) => {
        throw new Error(`cannot read "${text}"`);
      },
      logger: { warn: ((obj: unknown, msg?: string) => void warnings.push([obj, msg])) as never },
    });
    const first = await say(secret);
    const detail = await views.detail((await store.getSession(first.session.id))!, ann);
    expect(detail.messages[0]).not.toHaveProperty('emotion');
    expect(detail).not.toHaveProperty('emotion');
    expect(warnings).toEqual([[{ messageId: first.envelope.id, errorType: 'Error' }, 'reading a message emotion failed']]);
    expect(JSON.stringify(warnings)).not.toContain('6222');
  });
});

describe("the session detail shows the routing decision's candidates (issue 18: kept beside the session row)", () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-views-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
  });
  afterEach(async () => {
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads them for the detail only: a lead sees every candidate, an agent their own line', async () => {
    const { session } = await store.appendInbound(draft({ text: 'hello' }), { skillGroup: 'general' });
    const candidates = [
      { agentId: 'ann', chosen: true, reasons: ['idle longest'] },
      { agentId: 'bob', chosen: false, reasons: ['at capacity: 3/3 chats'] },
    ];
    const routing = {
      valueScore: 50,
      difficultyScore: 60,
      priority: 54,
      tier: 'assisted' as const,
      configVersion: 1,
      weights: { value: 0.6, difficulty: 0.4 },
      thresholds: { expert: 80, assisted: 50 },
      skillGroup: 'general',
      reasons: [{ factor: 'test', note: 'fixture' }],
      offeredTo: 'ann',
      assignment: 'idle longest',
      decidedAt: new Date().toISOString(),
      candidates,
    };
    await store.saveRouting(session.id, routing, { agentId: 'ann', expiresAt: new Date(Date.now() + 20_000).toISOString() });
    const stored = (await store.getSession(session.id))!;
    expect(stored.routing).not.toHaveProperty('candidates');
    const views = new SessionViews(store);
    const lead: UserView = { ...ann, id: 'lee', username: 'lee', roles: ['lead'] };
    expect(SessionDetailSchema.parse(await views.detail(stored, lead)).routing?.candidates).toEqual(candidates);
    expect(SessionDetailSchema.parse(await views.detail(stored, ann)).routing?.candidates).toEqual([candidates[0]]);
  });
});
