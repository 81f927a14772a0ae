import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorBodySchema } from '../../../../common/errors/codes';
import type { Envelope, InboundDraft } from '../../../../common/message/envelope';
import { startTestServer, type TestServer } from '../../../test/support/harness';
import { FakeWechatApi } from '../../../test/support/wechat-fake-api';
import { DEMO_WECHAT } from '../../demo/seed';
import { Ingest } from '../ingest';
import { readWechatData, SAMPLES } from './__fixtures__/data';
import { ONE_PIXEL_PNG, postEncrypted, postPlain, signedQuery, textPush, withSender, type PushingAccount } from './__fixtures__/push';
import { SAMPLE_EXPECTATIONS } from './__fixtures__/samples';

const PLAIN: PushingAccount = { accountId: 'plain-wx', token: 'plaintoken', appId: 'wx1111111111111111' };
const SAFE: PushingAccount = {
  accountId: 'safe-wx',
  token: 'safetoken',
  appId: 'wx2222222222222222',
  encodingAESKey: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR',
};

/**
 * The WeChat route on the real server (issue 12): every wechatpy sample through
 * `POST /channels/wechat/:accountId` in plain mode with a valid signature, the URL check, AES safe
 * mode, refusals with their codes and counters, duplicates, media and unionids through the fake
 * WeChat API on loopback.
 */
describe('WeChat official account channel (/channels/wechat/:accountId)', () => {
  let s: TestServer;
  const fake = new FakeWechatApi();
  const drafts: InboundDraft[] = [];

  beforeAll(async () => {
    // What the channel hands to Ingest (the draft, with its identity links), recorded on the way through.
    const accept = Ingest.prototype.accept;
    vi.spyOn(Ingest.prototype, 'accept').mockImplementation(function (this: Ingest, draft, ...rest) {
      drafts.push(draft);
      return accept.call(this, draft, ...rest);
    });
    const apiBaseUrl = await fake.start();
    fake.addApp(PLAIN.appId, 'plain-secret').addApp(SAFE.appId, 'safe-secret').setMedia('media_id', ONE_PIXEL_PNG, 'image/jpeg');
    s = await startTestServer();
    await s.services.channels.addAccount({
      channel: 'WX',
      accountId: PLAIN.accountId,
      name: 'Plain test account',
      skillGroup: null,
      settings: { appId: PLAIN.appId, apiBaseUrl, mode: 'plain' },
      secrets: { token: PLAIN.token, appSecret: 'plain-secret' },
    });
    await s.services.channels.addAccount({
      channel: 'WX',
      accountId: SAFE.accountId,
      name: 'Safe test account',
      skillGroup: 'vip',
      settings: { appId: SAFE.appId, apiBaseUrl, mode: 'safe' },
      secrets: { token: SAFE.token, encodingAESKey: SAFE.encodingAESKey!, appSecret: 'safe-secret' },
    });
    await s.services.channels.addAccount({
      channel: 'WX',
      accountId: 'broken-wx',
      name: 'Misconfigured',
      skillGroup: null,
      settings: { appId: 'not-an-appid', mode: 'safe' },
      secrets: { token: 'x' },
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await s?.cleanup();
    await fake.close();
  });

  const messagesOf = async (openid: string): Promise<Envelope[]> => {
    const customer = await s.services.store.findCustomerByIdentity('WX', openid);
    if (!customer) return [];
    const session = await s.services.store.latestSession(customer.id, 'WX');
    return session ? s.services.store.listMessages(session.conversationId) : [];
  };
  const counter = async (name: string, labels: Record<string, string>): Promise<number> => {
    const text = (await s.app.inject({ url: '/metrics' })).body;
    const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const errorCode = (res: { body: string }) => ErrorBodySchema.parse(JSON.parse(res.body)).error.code;

  describe('URL verification (GET)', () => {
    it('echoes echostr for a valid signature', async () => {
      const query = new URLSearchParams({ ...signedQuery(PLAIN), echostr: '5927782489442352469' });
      const res = await s.app.inject({ url: `/channels/wechat/${PLAIN.accountId}?${query}` });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('5927782489442352469');
    });

    it('verifies the demo account with the DESIGN §6 token', async () => {
      const demo = { accountId: DEMO_WECHAT.accountId, token: DEMO_WECHAT.token, appId: DEMO_WECHAT.appId };
      const res = await s.app.inject({
        url: `/channels/wechat/demo?${new URLSearchParams({ ...signedQuery(demo), echostr: 'hello123' })}`,
      });
      expect(res.body).toBe('hello123');
    });

    it('refuses a wrong signature (401), a stale timestamp (401), an unknown account (404) and a misconfigured one (503)', async () => {
      const good = signedQuery(PLAIN);
      const bad = await s.app.inject({
        url: `/channels/wechat/${PLAIN.accountId}?${new URLSearchParams({ ...good, signature: '0'.repeat(40), echostr: 'x1' })}`,
      });
      expect([bad.statusCode, errorCode(bad)]).toEqual([401, 'WECHAT_SIGNATURE_INVALID']);
      const stale = await s.app.inject({
        url: `/channels/wechat/${PLAIN.accountId}?${new URLSearchParams({ ...signedQuery(PLAIN, Date.now() - 301_000), echostr: 'x1' })}`,
      });
      expect([stale.statusCode, errorCode(stale)]).toEqual([401, 'WECHAT_TIMESTAMP_STALE']);
      const unknown = await s.app.inject({ url: `/channels/wechat/nobody?${new URLSearchParams({ ...good, echostr: 'x1' })}` });
      expect([unknown.statusCode, errorCode(unknown)]).toEqual([404, 'WECHAT_ACCOUNT_NOT_FOUND']);
      const broken = await s.app.inject({ url: `/channels/wechat/broken-wx?${new URLSearchParams({ ...good, echostr: 'x1' })}` });
      expect([broken.statusCode, errorCode(broken)]).toEqual([503, 'WECHAT_ACCOUNT_INVALID']);
      expect(await counter('huiliu_channel_rejected_total', { channel: 'WX', code: 'WECHAT_SIGNATURE_INVALID' })).toBeGreaterThanOrEqual(1);
      expect(await counter('huiliu_channel_rejected_total', { channel: 'WX', code: 'WECHAT_ACCOUNT_INVALID' })).toBe(1);
      expect(JSON.parse(broken.body)).toEqual({ error: { code: 'WECHAT_ACCOUNT_INVALID', message: expect.any(String) } });
    });
  });

  describe('every wechatpy sample, posted in plain mode with a valid signature', () => {
    it('has an expectation for each of the 51 samples', () => {
      expect(SAMPLES).toHaveLength(51);
      expect(Object.keys(SAMPLE_EXPECTATIONS).sort()).toEqual(SAMPLES.map((x) => x.file).sort());
    });

    for (const [i, sample] of SAMPLES.entries()) {
      const expected = SAMPLE_EXPECTATIONS[sample.file]!;
      it(`${sample.file} (${sample.MsgType}${sample.Event ? ` ${sample.Event}` : ''}) → ${expected.disposition}`, async () => {
        const openid = `oSample${i}x${expected.disposition}`;
        const xml = withSender(readWechatData(`messages-wechatpy/${sample.file}`), openid);
        if (expected.disposition === 'message') {
          const res = await postPlain(s.app, PLAIN, xml);
          expect([res.statusCode, res.body]).toEqual([200, 'success']);
          const [stored, ...more] = await messagesOf(openid);
          expect(more).toHaveLength(0);
          expect(stored).toMatchObject({
            channel: 'WX',
            direction: 'in',
            kind: expected.kind,
            meta: { accountId: PLAIN.accountId, openid },
          });
          expect(stored!.sessionId.startsWith('WX')).toBe(true);
          if (expected.kind === 'text') {
            expect(stored!.body).toEqual({ text: expected.text });
            expect(stored!.meta).toMatchObject(expected.meta ?? {});
          } else {
            // The image came through media/get into the attachments store.
            const body = stored!.body as { attachmentId: string; mime: string; size: number };
            expect(body).toMatchObject({ mime: 'image/png', size: ONE_PIXEL_PNG.length });
            expect((await s.images.attachments.bytes(body.attachmentId))!.equals(ONE_PIXEL_PNG)).toBe(true);
          }
        } else if (expected.disposition === 'ignore') {
          const before = await counter('huiliu_channel_acknowledged_total', {
            channel: 'WX',
            type: expected.type,
            reason: expected.reason,
          });
          const res = await postPlain(s.app, PLAIN, xml);
          expect([res.statusCode, res.body]).toEqual([200, 'success']);
          expect(await messagesOf(openid)).toHaveLength(0);
          expect(await counter('huiliu_channel_acknowledged_total', { channel: 'WX', type: expected.type, reason: expected.reason })).toBe(
            before + 1,
          );
        } else {
          // No conversation yet: acknowledged and counted, nothing stored.
          const first = await postPlain(s.app, PLAIN, xml);
          expect([first.statusCode, first.body]).toEqual([200, 'success']);
          expect(await messagesOf(openid)).toHaveLength(0);
          // With one open, the event joins it.
          await postPlain(s.app, PLAIN, textPush(openid, 'hello', `9${i}00001`));
          const again = await postPlain(s.app, PLAIN, xml);
          expect([again.statusCode, again.body]).toEqual([200, 'success']);
          const stored = await messagesOf(openid);
          expect(stored.map((m) => m.kind)).toEqual(['text', 'event']);
          expect(stored[1]).toMatchObject({ kind: 'event', critical: false, body: { name: expected.name }, meta: { openid } });
          expect((stored[1]!.body as { data?: unknown }).data).toEqual(expected.data);
        }
      });
    }
  });

  describe('refusals', () => {
    it('refuses a wrong POST signature (401) and stores nothing', async () => {
      const res = await postPlain(s.app, PLAIN, textPush('oRefused1', 'hi', '1001'), { ...signedQuery(PLAIN), signature: 'f'.repeat(40) });
      expect([res.statusCode, errorCode(res)]).toEqual([401, 'WECHAT_SIGNATURE_INVALID']);
      const unsigned = await postPlain(s.app, PLAIN, textPush('oRefused1', 'hi', '1001'), {});
      expect([unsigned.statusCode, errorCode(unsigned)]).toEqual([401, 'WECHAT_SIGNATURE_INVALID']);
      expect(await messagesOf('oRefused1')).toHaveLength(0);
    });

    it('refuses DOCTYPE/entities, malformed XML, a push without sender and an oversized body, counted by code', async () => {
      const before = await counter('huiliu_channel_rejected_total', { channel: 'WX', code: 'WECHAT_XML_MALFORMED' });
      const xxe =
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><FromUserName>oXxe</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&x;</Content><MsgId>1</MsgId></xml>';
      const bomb = '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><xml><Content>&b;</Content></xml>';
      for (const body of [
        xxe,
        bomb,
        '<xml><FromUserName>oX</FromUserName>',
        'not xml at all',
        '<other/>',
        '<xml><MsgType>text</MsgType></xml>',
      ]) {
        const res = await postPlain(s.app, PLAIN, body);
        expect([res.statusCode, errorCode(res)], body.slice(0, 40)).toEqual([400, 'WECHAT_XML_MALFORMED']);
      }
      expect(await counter('huiliu_channel_rejected_total', { channel: 'WX', code: 'WECHAT_XML_MALFORMED' })).toBe(before + 6);
      const big = await postPlain(s.app, PLAIN, `<xml><Content>${'a'.repeat(65 * 1024)}</Content></xml>`);
      expect([big.statusCode, errorCode(big)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
      expect(await counter('huiliu_channel_rejected_total', { channel: 'WX', code: 'PAYLOAD_TOO_LARGE' })).toBe(1);
      expect(await messagesOf('oXxe')).toHaveLength(0);
    });

    it('refuses a plain push to a safe-mode account and an AES push to a plain one (403)', async () => {
      const plainToSafe = await postPlain(s.app, SAFE, textPush('oMode1', 'hi', '2001'));
      expect([plainToSafe.statusCode, errorCode(plainToSafe)]).toEqual([403, 'WECHAT_MODE_REFUSED']);
      const aesToPlain = await postEncrypted(s.app, { ...PLAIN, encodingAESKey: SAFE.encodingAESKey }, textPush('oMode1', 'hi', '2001'));
      expect([aesToPlain.statusCode, errorCode(aesToPlain)]).toEqual([403, 'WECHAT_MODE_REFUSED']);
    });
  });

  describe('AES safe mode', () => {
    it('decrypts, checks and stores a safe-mode push in the account’s skill group', async () => {
      const res = await postEncrypted(s.app, SAFE, textPush('oSafe1', '我的订单到哪了？', '3001'));
      expect([res.statusCode, res.body]).toEqual([200, 'success']);
      const [stored] = await messagesOf('oSafe1');
      expect(stored).toMatchObject({
        kind: 'text',
        body: { text: '我的订单到哪了？' },
        clientMessageId: '3001',
        meta: { accountId: SAFE.accountId },
      });
      expect((await s.services.store.getSession(stored!.sessionId))!.skillGroup).toBe('vip');
    });

    it('refuses a wrong msg_signature (401) and a message encrypted for another AppID (403)', async () => {
      const forged = await postEncrypted(s.app, SAFE, textPush('oSafe2', 'hi', '3002'), { tamperSignature: true });
      expect([forged.statusCode, errorCode(forged)]).toEqual([401, 'WECHAT_SIGNATURE_INVALID']);
      const other = await postEncrypted(s.app, SAFE, textPush('oSafe2', 'hi', '3002'), { encryptFor: 'wx9999999999999999' });
      expect([other.statusCode, errorCode(other)]).toEqual([403, 'WECHAT_APPID_MISMATCH']);
      expect(await messagesOf('oSafe2')).toHaveLength(0);
    });
  });

  describe('retries, media and identity', () => {
    it("stores WeChat's three retries of a push once, answering success each time", async () => {
      const xml = textPush('oRetry1', 'where is my parcel', '4001');
      for (let n = 0; n < 3; n++) expect((await postPlain(s.app, PLAIN, xml)).body).toBe('success');
      const event = withSender(readWechatData('messages-wechatpy/events__test_click_event.xml'), 'oRetry1');
      for (let n = 0; n < 3; n++) expect((await postPlain(s.app, PLAIN, event)).body).toBe('success');
      expect((await messagesOf('oRetry1')).map((m) => m.kind)).toEqual(['text', 'event']);
    });

    it('links the unionid from user/info on the draft; without one the draft has no link', async () => {
      fake.setUnionid('oUnion1', 'uUnionAbc123');
      await postPlain(s.app, PLAIN, textPush('oUnion1', 'hi', '5001'));
      await postPlain(s.app, PLAIN, textPush('oUnion2', 'hi', '5002'));
      expect(drafts.find((d) => d.identity.externalId === 'oUnion1')!.identity).toEqual({
        channel: 'WX',
        externalId: 'oUnion1',
        links: [{ kind: 'wechat-unionid', value: 'uUnionAbc123', merge: true }],
      });
      expect(drafts.find((d) => d.identity.externalId === 'oUnion2')!.identity.links).toBeUndefined();
      // Cached per openid: a second message asks user/info no more.
      await postPlain(s.app, PLAIN, textPush('oUnion1', 'again', '5003'));
      expect(fake.userInfoRequests.filter((o) => o === 'oUnion1')).toHaveLength(1);
    });

    it('stores an image whose media cannot be fetched as "[image]" with its media id, and counts the failure', async () => {
      const before = await counter('huiliu_channel_media_failed_total', { channel: 'WX' });
      const xml = withSender(readWechatData('messages-wechatpy/parser__test_parse_image_message.xml'), 'oMedia1').replace(
        'media_id',
        'gone_media',
      );
      expect((await postPlain(s.app, PLAIN, xml)).body).toBe('success');
      const [stored] = await messagesOf('oMedia1');
      expect(stored).toMatchObject({ kind: 'text', body: { text: '[image]' }, meta: { mediaId: 'gone_media', picUrl: 'this is a url' } });
      expect(await counter('huiliu_channel_media_failed_total', { channel: 'WX' })).toBe(before + 1);
    });

    it('stores a voice message with WeChat’s recognition as its transcript', async () => {
      const xml = `<xml><ToUserName>gh</ToUserName><FromUserName>oVoice1</FromUserName><CreateTime>1357290913</CreateTime><MsgType>voice</MsgType><MediaId>m1</MediaId><Format>amr</Format><Recognition><![CDATA[我要退款]]></Recognition><MsgId>6001</MsgId></xml>`;
      expect((await postPlain(s.app, PLAIN, xml)).body).toBe('success');
      expect((await messagesOf('oVoice1'))[0]).toMatchObject({
        body: { text: '[voice message] 我要退款' },
        meta: { transcript: 'wechat', format: 'amr' },
      });
    });

    it('counts a text beyond the length limit as too-long (never cut), keeps a far-future CreateTime, and keeps two id-less messages apart', async () => {
      const before = await counter('huiliu_channel_acknowledged_total', { channel: 'WX', type: 'text', reason: 'too-long' });
      expect((await postPlain(s.app, PLAIN, textPush('oLong1', 'a'.repeat(8001), '7101'))).body).toBe('success');
      expect(await messagesOf('oLong1')).toEqual([]);
      expect(await counter('huiliu_channel_acknowledged_total', { channel: 'WX', type: 'text', reason: 'too-long' })).toBe(before + 1);
      // The sender's clock is metadata: a time far ahead of ours is replaced by the receive time, not refused.
      expect((await postPlain(s.app, PLAIN, textPush('oFuture1', 'from the future', '7102', 999_999_999_999))).body).toBe('success');
      const [future] = await messagesOf('oFuture1');
      expect(future!.sentAt).toBe(future!.receivedAt);
      // Two different messages without MsgId in the same second are two messages.
      const noId = (text: string) => textPush('oNoId1', text, 'x', 1_700_000_000).replace('<MsgId>x</MsgId>', '');
      expect((await postPlain(s.app, PLAIN, noId('first'))).body).toBe('success');
      expect((await postPlain(s.app, PLAIN, noId('second'))).body).toBe('success');
      expect((await postPlain(s.app, PLAIN, noId('second'))).body).toBe('success');
      expect((await messagesOf('oNoId1')).map((m) => (m.kind === 'text' ? m.body.text : ''))).toEqual(['first', 'second']);
    });
  });
});
