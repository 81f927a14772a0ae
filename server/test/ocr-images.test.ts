import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppMessageResponseSchema } from '../../common/api/app-channel';
import { AttachmentSearchResponseSchema, type MessageAnnotation } from '../../common/api/attachments';
import { SessionDetailSchema } from '../../common/api/sessions';
import { ErrorBodySchema } from '../../common/errors/codes';
import { createLogger } from '../src/logging/logger';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { canRenderText, renderTextImage } from './support/text-image';
import { until } from './support/until';

const KEY = { 'x-huiliu-key': 'demo-app-key' };
const PHONE = '13812345678';
const CARD = '4111 1111 1111 1111';
const RESIDENT_ID = '11010519491231002X';
/** What a customer photographs: an order number to find it by, and personal numbers to mask. */
const RECEIPT = `Order 88990011 refund\nPhone ${PHONE}\nCard ${CARD}\nID ${RESIDENT_ID}`;

/**
 * Issue 10, OCR, in the running demo server: an image sent on the app channel is stored sealed,
 * read in the background, shown to staff under the image with personal numbers masked, pushed to the
 * agent who has the chat, searchable by staff who may see the session — and its text never logged.
 */
describe.skipIf(!canRenderText() && !process.env.CI)('images on the app channel, read by OCR', () => {
  let s: TestServer;
  const lines: string[] = [];
  const sockets: Socket[] = [];
  beforeAll(async () => {
    s = await startTestServer({}, { logger: createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } }) });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await s.cleanup();
  });

  const post = (payload: Record<string, unknown>) =>
    s.app.inject({ method: 'POST', url: '/api/v1/channels/app/messages', headers: KEY, payload });
  const image = (text: string) => ({ base64: renderTextImage(text).toString('base64'), mime: 'image/png' });
  const readDone = async (attachmentId: string) => {
    await until(async () => (await s.images.attachments.get(attachmentId))?.ocr.status !== 'pending', 30_000);
    await s.images.ocr.reader?.idle();
  };
  const staff = async (username: string) => ({ authorization: `Bearer ${await s.login(username)}` });

  it('stores the image, reads it, and shows the text under it with phone, card and ID masked', async () => {
    expect(s.images.ocr.enabled).toBe(true);
    const res = await post({
      customer: { externalId: 'ocr-receipt' },
      text: 'Here is my receipt',
      image: image(RECEIPT),
      clientMessageId: 'ocr-1',
      hints: { skillGroup: 'general' },
    });
    expect(res.statusCode).toBe(202);
    const answer = AppMessageResponseSchema.parse(res.json());
    expect(answer.attachmentId).toMatch(/^[0-9a-f]{32}$/);
    await readDone(answer.attachmentId!);

    const detail = SessionDetailSchema.parse(
      (await s.app.inject({ url: `/api/v1/sessions/${answer.sessionId}`, headers: await staff('admin') })).json(),
    );
    const [message] = detail.messages;
    expect(message).toMatchObject({
      kind: 'image',
      body: { attachmentId: answer.attachmentId, mime: 'image/png', caption: 'Here is my receipt' },
    });
    expect(message!.ocr).toMatchObject({ status: 'done', lang: 'en' });
    const shown = message!.ocr!.text!;
    expect(shown).toContain('Order 88990011 refund');
    expect(shown).toContain('5678');
    for (const raw of [PHONE, CARD, CARD.replace(/ /g, ''), RESIDENT_ID]) expect(shown).not.toContain(raw);

    // Never in the logs, in any form: the reader logs ids, status and numbers about the text only.
    const log = lines.join('\n');
    expect(log).toContain('image read');
    for (const raw of [PHONE, CARD, RESIDENT_ID, '88990011', 'refund']) expect(log).not.toContain(raw);
  });

  it('answers a retried message with the same ids and stores the image once', async () => {
    const payload = { customer: { externalId: 'ocr-retry' }, image: image('Retry me'), clientMessageId: 'ocr-retry-1' };
    const first = AppMessageResponseSchema.parse((await post(payload)).json());
    const again = await post(payload);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first);
    const other = await post({ ...payload, image: image('Something else') });
    expect(other.statusCode).toBe(409);
    expect(ErrorBodySchema.parse(other.json()).error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('serves the image to staff of its group only, with its type, nosniff and a CSP that runs nothing', async () => {
    const png = renderTextImage('Served image');
    const answer = AppMessageResponseSchema.parse(
      (
        await post({
          customer: { externalId: 'ocr-serve' },
          image: { base64: png.toString('base64'), mime: 'image/png' },
          clientMessageId: 'ocr-serve-1',
          hints: { skillGroup: 'general' },
        })
      ).json(),
    );
    const url = `/api/v1/attachments/${answer.attachmentId}`;
    const res = await s.app.inject({ url, headers: await staff('agent1') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain('sandbox');
    expect(res.headers['content-disposition']).toBe(`inline; filename="image-${answer.attachmentId}.png"`);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.rawPayload.equals(png)).toBe(true);

    // agent2 serves the vip group only: the general group's image is not there for them.
    const other = await s.app.inject({ url, headers: await staff('agent2') });
    expect(other.statusCode).toBe(404);
    expect(ErrorBodySchema.parse(other.json()).error.code).toBe('NOT_FOUND');
    expect((await s.app.inject({ url })).statusCode).toBe(401);
    expect((await s.app.inject({ url: '/api/v1/attachments/not-an-id', headers: await staff('admin') })).statusCode).toBe(400);
  });

  it('finds images by the words and numbers in them, within the searcher’s groups, masked', async () => {
    const general = AppMessageResponseSchema.parse(
      (
        await post({
          customer: { externalId: 'ocr-search-g' },
          image: image(`Tracking SF1234567890 for ${PHONE}`),
          clientMessageId: 'ocr-search-1',
          hints: { skillGroup: 'general' },
        })
      ).json(),
    );
    const vip = AppMessageResponseSchema.parse(
      (
        await post({
          customer: { externalId: 'ocr-search-v' },
          image: image('Tracking SF1234567890 again'),
          clientMessageId: 'ocr-search-2',
          hints: { skillGroup: 'vip' },
        })
      ).json(),
    );
    await readDone(general.attachmentId!);
    await readDone(vip.attachmentId!);
    const search = async (username: string, q: string) =>
      AttachmentSearchResponseSchema.parse(
        (await s.app.inject({ url: `/api/v1/attachments/search?q=${encodeURIComponent(q)}`, headers: await staff(username) })).json(),
      ).hits;

    expect((await search('admin', 'sf1234567890')).map((h) => h.attachmentId)).toEqual([vip.attachmentId, general.attachmentId]);
    expect((await search('agent1', 'SF1234567890')).map((h) => h.attachmentId)).toEqual([general.attachmentId]);
    expect((await search('agent2', 'SF1234567890')).map((h) => h.attachmentId)).toEqual([vip.attachmentId]);
    // A number in the image finds it; the hit shows it masked.
    const [byPhone] = await search('admin', PHONE);
    expect(byPhone).toMatchObject({ attachmentId: general.attachmentId, sessionId: general.sessionId, messageId: general.messageId });
    expect(byPhone!.snippet).toContain('SF1234567890');
    expect(byPhone!.snippet).not.toContain(PHONE);
    expect(await search('admin', 'Tracking nowhere')).toEqual([]);
  });

  it('pushes the text to the agent who has the chat when it has been read', async () => {
    const token = await s.login('agent1');
    const socket = await openAgentSocket(s, token);
    sockets.push(socket);
    const annotations: MessageAnnotation[] = [];
    socket.on('message:annotated', (a: MessageAnnotation) => void annotations.push(a));
    const first = AppMessageResponseSchema.parse(
      (
        await post({ customer: { externalId: 'ocr-push' }, text: 'hello', clientMessageId: 'ocr-push-1', hints: { skillGroup: 'general' } })
      ).json(),
    );
    expect((await ack(socket, 'offer:accept', { sessionId: first.sessionId })).ok).toBe(true);
    const second = AppMessageResponseSchema.parse(
      (await post({ customer: { externalId: 'ocr-push' }, image: image('我的订单还没有收到'), clientMessageId: 'ocr-push-2' })).json(),
    );
    await until(() => annotations.some((a) => a.messageId === second.messageId), 30_000);
    expect(annotations.find((a) => a.messageId === second.messageId)).toMatchObject({
      sessionId: first.sessionId,
      attachmentId: second.attachmentId,
      ocr: { status: 'done', lang: 'zh', text: '我的订单还没有收到' },
    });
  });

  it('refuses a JPEG declared as PNG, an unsupported type and an over-large image before storing anything', async () => {
    const jpeg = renderTextImage('x', { format: 'jpeg' }).toString('base64');
    const cases: [Record<string, unknown>, number, string][] = [
      [{ base64: jpeg, mime: 'image/png' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ base64: Buffer.from('<svg/>').toString('base64'), mime: 'image/svg+xml' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ base64: 'A'.repeat(7 * 1024 * 1024), mime: 'image/png' }, 413, 'PAYLOAD_TOO_LARGE'],
      [{ base64: '%%%', mime: 'image/png' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [img, status, code] of cases) {
      const res = await post({ customer: { externalId: 'ocr-refused' }, image: img, clientMessageId: `ocr-refused-${status}-${code}` });
      expect(res.statusCode, code).toBe(status);
      expect(ErrorBodySchema.parse(res.json()).error.code).toBe(code);
    }
    // Nothing was stored for that customer.
    const list = await s.app.inject({ url: '/api/v1/channels/app/messages?externalId=ocr-refused', headers: KEY });
    expect(list.json()).toMatchObject({ sessionId: null, messages: [] });
  });

  it('refuses a message with neither text nor image, naming the field', async () => {
    const res = await post({ customer: { externalId: 'ocr-empty' }, clientMessageId: 'ocr-empty-1' });
    expect(res.statusCode).toBe(400);
    expect(ErrorBodySchema.parse(res.json()).error.details).toEqual([{ path: 'text', message: 'give text, an image, or both' }]);
  });
});
