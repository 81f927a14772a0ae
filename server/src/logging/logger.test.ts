import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (l: string) => void lines.push(l) } };
}

describe('logger', () => {
  it('never writes raw phone numbers, ID numbers or card numbers, in messages, fields or errors', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    const phone = '13812345678';
    const id = '11010519491231002X';
    const card = '4111 1111 1111 1111';
    log.info(`customer ${phone} says hi`);
    log.info({ customer: { phone, idNumber: id }, list: [card] }, 'profile');
    log.error({ err: new Error(`lookup failed for ${id} / ${card}`) }, 'boom');
    const all = lines.join('\n');
    expect(lines).toHaveLength(3);
    for (const raw of [phone, id, card, '4111111111111111']) expect(all).not.toContain(raw);
    expect(all).toContain('*******5678');
    expect(all).toContain('1111');
  });

  it('never writes an XMPP address given as a jid field, even one on a dotless host', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    log.info({ jid: 'wang.fang@localhost/phone', stanza: { jid: 'li.na@localhost' } }, 'xmpp');
    expect(lines[0]).not.toContain('wang.fang');
    expect(lines[0]).not.toContain('li.na');
    expect(lines[0]).toContain('[personal]');
  });

  it('censors secrets outright', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    log.info({ password: 'hunter2', req: { headers: { authorization: 'Bearer abc', 'x-huiliu-key': 'demo-app-key' } } }, 'login');
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).not.toContain('Bearer abc');
    expect(lines[0]).not.toContain('demo-app-key');
    expect(lines[0]).toContain('[secret]');
  });
});
