import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { aesKeyOf, wechatEncrypt, wechatSignature } from '../crypto';

/** A test official account as WeChat's servers see it: what they sign and encrypt with. */
export interface PushingAccount {
  accountId: string;
  token: string;
  appId: string;
  encodingAESKey?: string;
}

/** The query WeChat adds to a push or URL check: signature over token, timestamp and nonce. */
export function signedQuery(account: PushingAccount, at = Date.now(), nonce = randomBytes(6).toString('hex')): Record<string, string> {
  const timestamp = String(Math.floor(at / 1000));
  return { timestamp, nonce, signature: wechatSignature([account.token, timestamp, nonce]) };
}

/** A plain-mode push as WeChat sends it: text/xml, signed URL. */
export function postPlain(
  app: FastifyInstance,
  account: PushingAccount,
  xml: string,
  query: Record<string, string> = signedQuery(account),
) {
  return app.inject({
    method: 'POST',
    url: `/channels/wechat/${account.accountId}?${new URLSearchParams({ ...query, openid: 'ignored-by-server' })}`,
    headers: { 'content-type': 'text/xml' },
    payload: xml,
  });
}

/**
 * A safe-mode push: the message encrypted for `encryptFor` (default the account's AppID), wrapped in
 * `<xml><ToUserName/><Encrypt/></xml>`, with `encrypt_type=aes` and `msg_signature` over the ciphertext.
 */
export function postEncrypted(
  app: FastifyInstance,
  account: PushingAccount,
  xml: string,
  options: { encryptFor?: string; tamperSignature?: boolean; at?: number } = {},
) {
  const encrypt = wechatEncrypt(xml, aesKeyOf(account.encodingAESKey!), options.encryptFor ?? account.appId);
  const query = signedQuery(account, options.at);
  let msgSignature = wechatSignature([account.token, query.timestamp!, query.nonce!, encrypt]);
  if (options.tamperSignature) msgSignature = `${msgSignature.slice(0, -1)}${msgSignature.endsWith('0') ? '1' : '0'}`;
  return app.inject({
    method: 'POST',
    url: `/channels/wechat/${account.accountId}?${new URLSearchParams({ ...query, encrypt_type: 'aes', msg_signature: msgSignature })}`,
    headers: { 'content-type': 'text/xml' },
    payload: `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
  });
}

/** A text push from `openid`. */
export function textPush(openid: string, text: string, msgId: string, createTime = Math.floor(Date.now() / 1000)): string {
  return `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${msgId}</MsgId></xml>`;
}

/** A sample with its sender replaced (each sample gets its own customer in a test run). */
export const withSender = (xml: string, openid: string) =>
  xml.replace(/<FromUserName><!\[CDATA\[[^\]]*\]\]><\/FromUserName>/, `<FromUserName><![CDATA[${openid}]]></FromUserName>`);

/** A 1×1 PNG: a real image for media/get. */
export const ONE_PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
