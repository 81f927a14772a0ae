import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_RETRY, classifyStatus, retryDelay, signWebhook, verifyWebhook, webhookUrlProblem } from './webhook';

describe('app webhook rules (issue 13)', () => {
  it('signs v1=HMAC-SHA256(secret, "timestamp.body") in hex, as openssl computes it', () => {
    // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
    expect(signWebhook('key', '1700000000', '{"a":1}')).toBe('v1=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03');
  });

  it('verifies a good signature and refuses a wrong length, a bad timestamp or a stale one', () => {
    const now = 1_700_000_000_000;
    const sig = signWebhook('key', '1700000000', 'body');
    expect(verifyWebhook('key', { timestamp: '1700000000', signature: sig }, 'body', now)).toBe(true);
    expect(verifyWebhook('key', { timestamp: '1700000000', signature: sig.slice(0, -1) }, 'body', now)).toBe(false);
    expect(verifyWebhook('key', { timestamp: '1700000000', signature: undefined }, 'body', now)).toBe(false);
    expect(verifyWebhook('key', { timestamp: '17e8', signature: sig }, 'body', now)).toBe(false);
    expect(verifyWebhook('key', { timestamp: '1700000000', signature: sig }, 'body', now + 301_000)).toBe(false);
  });

  it('waits base·2^(n−1) capped, each wait between half and all of it (equal jitter)', () => {
    const cfg = { ...DEFAULT_WEBHOOK_RETRY, baseDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 10].map((n) => retryDelay(n, cfg, () => 0))).toEqual([500, 1000, 2000, 2500, 2500]);
    expect([1, 2, 3, 4, 10].map((n) => retryDelay(n, cfg, () => 1))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('retries 408, 429 and 5xx; takes 2xx as delivered; any other status as a refusal', () => {
    expect([200, 202, 204].map(classifyStatus)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([408, 429, 500, 502, 503].map(classifyStatus)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
    expect([301, 400, 401, 404, 410].map(classifyStatus)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
  });

  it('takes https and loopback http URLs only', () => {
    expect(webhookUrlProblem('https://shop.example.com/hook?x=1')).toBeNull();
    expect(webhookUrlProblem('http://127.0.0.1:9000/hook')).toBeNull();
    expect(webhookUrlProblem('http://localhost/hook')).toBeNull();
    expect(webhookUrlProblem('http://10.0.0.1/hook')).toMatch(/must be https/);
    expect(webhookUrlProblem('https://a:b@shop.example.com/')).toMatch(/user or password/);
    expect(webhookUrlProblem('https://shop.example.com/#x')).toMatch(/fragment/);
    expect(webhookUrlProblem(42)).toMatch(/URL string/);
    expect(webhookUrlProblem(`https://e.com/${'a'.repeat(1100)}`)).toMatch(/1024/);
  });
});
