import { describe, expect, it } from 'vitest';
import { depersonalize } from './adapt';
import { PastReplyMemory, type PastReply } from './replies';

let n = 0;
const pair = (question: string, reply: string, over: Partial<PastReply> = {}): PastReply => ({
  id: `p${++n}`,
  skillGroup: 'general',
  question,
  reply,
  sessionId: 'WB169208100012348213',
  customerId: 'c1',
  at: new Date(Date.UTC(2026, 10, 1, 0, 0, n)).toISOString(),
  ...over,
});

describe('the past-reply memory', () => {
  it("suggests a reply only once it was sent to two different customers: one customer's details never reach the next", () => {
    const memory = new PastReplyMemory();
    const personal = 'I changed the delivery address to Room 1203, 88 Zhangjiang Road and the recipient to Chen Xiaoming.';
    memory.add(pair('I moved, please update the delivery address on my pending order', personal, { customerId: 'a' }));
    expect(memory.search('I moved, please update the delivery address on my order', 'general')).toEqual([]);
    // The same customer again does not make it a stock answer.
    memory.add(pair('please update my delivery address', personal, { customerId: 'a' }));
    expect(memory.search('I moved, please update the delivery address on my order', 'general')).toEqual([]);
    const stock = 'You can change the address under My Orders until the parcel ships.';
    memory.add(pair('how do I change the delivery address', stock, { customerId: 'a' }));
    memory.add(pair('can I change my address for the order', stock, { customerId: 'b' }));
    expect(memory.search('I moved, please update the delivery address on my order', 'general').map((h) => h.reply.reply)).toEqual([stock]);
    // Forgetting one of the two makes it personal again.
    memory.forgetCustomer('b');
    expect(memory.search('how do I change the delivery address', 'general')).toEqual([]);
  });

  it('finds the reply to the most similar question, in English and Chinese', () => {
    const memory = new PastReplyMemory(undefined, 1);
    memory.add(
      pair('my parcel has not arrived yet, order {{order}}', 'I have asked the courier about {{order}}; it should arrive tomorrow.'),
    );
    memory.add(pair('how do I change my password', 'Go to Settings > Security and tap "Change password".'));
    memory.add(pair('退款什么时候到账', '退款审核通过后1到3个工作日原路退回。'));
    memory.add(pair('可以开发票吗', '可以的，在订单详情里申请电子发票。'));

    const en = memory.search('Order 2024120300456 still has not arrived', 'general');
    expect(en[0]?.reply.reply).toContain('asked the courier');
    expect(en[0]!.similarity).toBeGreaterThan(0.35);
    const zh = memory.search('我的退款多久能到账？', 'general');
    expect(zh[0]?.reply.reply).toBe('退款审核通过后1到3个工作日原路退回。');
    // Unrelated questions find nothing close.
    expect(memory.search('do you sell gift cards', 'general', 3, 0.35)).toEqual([]);
  });

  it("never returns another skill group's reply", () => {
    const memory = new PastReplyMemory(undefined, 1);
    memory.add(pair('where is my vip parcel', 'Your VIP parcel is with the courier.', { skillGroup: 'vip' }));
    expect(memory.search('where is my vip parcel', 'general')).toEqual([]);
    expect(memory.search('where is my vip parcel', 'vip').map((h) => h.reply.skillGroup)).toEqual(['vip']);
  });

  it('keeps the newest pairs within its bound and stores one stock answer once', () => {
    const memory = new PastReplyMemory(3, 1);
    const first = pair('where is my order', 'It ships within 48 hours.');
    memory.add(first);
    const again = pair('Where is my  order', 'It ships within 48 hours.');
    expect(memory.add(again)).toEqual([first.id]);
    expect(memory.size).toBe(1);
    const dropped = [
      pair('a refund please', 'Refunds take 3 days.'),
      pair('cancel my order', 'Cancelled.'),
      pair('change address', 'Done.'),
    ].flatMap((p) => memory.add(p));
    expect(dropped).toEqual([again.id]);
    expect(memory.size).toBe(3);
    const ids = memory.search('where is my order', 'general').map((h) => h.reply.id);
    expect(ids).not.toContain(first.id);
    expect(ids).not.toContain(again.id);
  });

  it('returns a reply once when several questions got the same answer, and forgets a customer', () => {
    const memory = new PastReplyMemory(undefined, 1);
    memory.add(pair('where is my order', 'It ships within 48 hours.', { customerId: 'a' }));
    memory.add(pair('where is my order now', 'It ships within 48 hours.', { customerId: 'b' }));
    memory.add(pair('where is my order please', 'Let me check the courier for you.', { customerId: 'b' }));
    const hits = memory.search('where is my order', 'general');
    expect(hits.map((h) => h.reply.reply)).toEqual(['It ships within 48 hours.', 'Let me check the courier for you.']);
    expect(memory.forgetCustomer('b')).toHaveLength(2);
    expect(memory.search('where is my order', 'general').map((h) => h.reply.customerId)).toEqual(['a']);
  });

  it('holds no customer details when fed depersonalised pairs', () => {
    const memory = new PastReplyMemory(undefined, 1);
    const people = { customerName: 'Zhang Wei', agentName: 'Agent One' };
    const stored = pair(
      depersonalize('Hi, I am Zhang Wei, order 2024112900123, phone 13812345678', people),
      depersonalize('Zhang Wei, order 2024112900123 left today. Agent One', people),
    );
    memory.add(stored);
    const [hit] = memory.search('order 2024120300456 please', 'general');
    expect(JSON.stringify(hit)).not.toMatch(/Zhang|2024112900123|13812345678|Agent One/);
    expect(hit?.reply.reply).toBe('{{name}}, order {{order}} left today. {{agent}}');
  });
});
