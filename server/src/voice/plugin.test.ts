import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerErrorHandling } from '../http/errors';
import { voicePlugin } from './plugin';
import type { VoiceService } from './service';

/**
 * The voice API's rate limit (docs/voice.md "Liveness"): past the budget `/route` and ordinary events
 * are refused 429, but a call's `ended` is still taken — a hang-up refused away would keep its agent busy.
 */
describe('voice API rate limit', () => {
  it('refuses routes and events past the budget, never an ended', async () => {
    const seen: string[] = [];
    const voice: VoiceService = {
      route: () => Promise.resolve({ action: 'queue', sessionId: 'SP1', position: 1, retrySeconds: 2 }),
      event: (request) => {
        seen.push(request.event);
        return Promise.resolve({ sessionId: 'SP1', status: request.event === 'ended' ? 'closed' : 'active' });
      },
    };
    const app = Fastify();
    registerErrorHandling(app);
    await app.register(voicePlugin, {
      voice,
      secrets: { routeToken: 'token', authSecret: 'secret' },
      sip: () => ({ domain: 'x', uris: [] }),
      requestsPerSecond: 2,
    });
    const post = (url: string, payload: object) =>
      app.inject({ method: 'POST', url, payload, headers: { 'x-huiliu-voice-token': 'token' } });
    const invite = { event: 'invite', callId: 'c1@x', from: 'sip:+8613800000001@x', to: 'sip:support@x' };
    expect((await post('/api/v1/voice/route', invite)).statusCode).toBe(200);
    expect((await post('/api/v1/voice/events', { event: 'ringing', callId: 'c1@x', sessionId: '', agent: 'agent1' })).statusCode).toBe(200);
    // The budget (2 a second) is spent.
    expect((await post('/api/v1/voice/route', invite)).statusCode).toBe(429);
    expect((await post('/api/v1/voice/events', { event: 'answered', callId: 'c1@x', sessionId: '', agent: 'agent1' })).statusCode).toBe(
      429,
    );
    const ended = await post('/api/v1/voice/events', { event: 'ended', callId: 'c1@x', sessionId: '', status: 0 });
    expect(ended.statusCode, ended.body).toBe(200);
    expect(seen).toEqual(['ringing', 'ended']);
    // A wrong token is still refused for an ended.
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/voice/events',
      payload: { event: 'ended', callId: 'c1@x', sessionId: '' },
      headers: { 'x-huiliu-voice-token': 'nope' },
    });
    expect(wrong.statusCode).toBe(401);
    await app.close();
  });

  it('never refuses the right token for wrong ones spent from the same address: a local process cannot lock Kamailio out', async () => {
    const seen: string[] = [];
    const voice: VoiceService = {
      route: () => Promise.resolve({ action: 'queue', sessionId: 'SP1', position: 1, retrySeconds: 2 }),
      event: (request) => {
        seen.push(request.event);
        return Promise.resolve({ sessionId: 'SP1', status: 'closed' });
      },
    };
    const app = Fastify();
    registerErrorHandling(app);
    await app.register(voicePlugin, {
      voice,
      secrets: { routeToken: 'token', authSecret: 'secret' },
      sip: () => ({ domain: 'x', uris: [] }),
    });
    // Every post through the loopback hop (and the edge's forwarder) comes from 127.0.0.1.
    const post = (url: string, payload: object, token: string) =>
      app.inject({ method: 'POST', url, payload, headers: { 'x-huiliu-voice-token': token }, remoteAddress: '127.0.0.1' });
    const invite = { event: 'invite', callId: 'c1@x', from: 'sip:+8613800000001@x', to: 'sip:support@x' };
    const wrong = [];
    for (let i = 0; i < 12; i++) wrong.push((await post('/api/v1/voice/route', invite, `guess-${i}`)).statusCode);
    // The guesses are refused, past ten a minute with 429 (Retry-After) …
    expect(wrong.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(wrong.slice(10)).toEqual([429, 429]);
    // … but Kamailio's own posts with the right token are served all the same.
    const route = await post('/api/v1/voice/route', invite, 'token');
    expect(route.statusCode, route.body).toBe(200);
    const ended = await post('/api/v1/voice/events', { event: 'ended', callId: 'c1@x', sessionId: '', status: 0 }, 'token');
    expect(ended.statusCode, ended.body).toBe(200);
    expect(seen).toEqual(['ended']);
    await app.close();
  });
});
