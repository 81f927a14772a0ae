import { describe, expect, it } from 'vitest';
import { adaptAnswer, depersonalize, fillPlaceholders, indexableText, usableName, type Addressee } from './adapt';

const none = { orders: [], tracking: [] };
const zhang: Addressee = { name: 'Zhang Wei', details: { orders: ['2024112900123'], tracking: ['SF1234567890123'] }, lang: 'en' };

describe('adapting a text to a customer', () => {
  it('fills placeholders, and drops the ones it has no value for', () => {
    expect(fillPlaceholders('Hi {{name}}, order {{order}} left with {{tracking}}. — {{agent}}', { ...zhang, agentName: 'Agent One' })).toBe(
      'Hi Zhang Wei, order 2024112900123 left with SF1234567890123. — Agent One',
    );
    expect(fillPlaceholders('Hi {{name}}, your order ({{order}}) is on its way.', { name: null, details: none, lang: 'en' })).toBe(
      'Hi, your order is on its way.',
    );
  });

  it('greets a customer by name and names their order before an answer without placeholders, in English and Chinese', () => {
    expect(adaptAnswer('It ships within 48 hours.', zhang)).toBe(
      'Hi Zhang Wei, about order 2024112900123 (tracking number SF1234567890123):\nIt ships within 48 hours.',
    );
    expect(adaptAnswer('付款后48小时内发货。', { name: '王芳', details: { orders: ['2024112900123'], tracking: [] }, lang: 'zh' })).toBe(
      '王芳，您好！关于订单 2024112900123：\n付款后48小时内发货。',
    );
    expect(adaptAnswer('It ships within 48 hours.', { name: null, details: { orders: ['HL-2024-00077'], tracking: [] }, lang: 'en' })).toBe(
      'About order HL-2024-00077:\nIt ships within 48 hours.',
    );
    expect(adaptAnswer('It ships within 48 hours.', { name: null, details: none, lang: 'en' })).toBe('It ships within 48 hours.');
  });

  it('does not greet anyone by a name the store made up', () => {
    expect(usableName('Web visitor')).toBeNull();
    expect(usableName('AP customer')).toBeNull();
    // The names the store gives a customer no channel named (issue 12) are placeholders too.
    for (const placeholder of ['WeChat user', 'XMPP user', 'App user']) expect(usableName(placeholder)).toBeNull();
    expect(usableName(' 李娜 ')).toBe('李娜');
  });

  it('takes one conversation out of a text: numbers, PII and names', () => {
    const text =
      'Hi Zhang Wei, order 2024112900123 left with SF1234567890123; call 13812345678 or mail zw@example.com. Wei, this is Agent One.';
    const out = depersonalize(text, { customerName: 'Zhang Wei', agentName: 'Agent One' });
    expect(out).toMatch(
      /^Hi \{\{name\}\}, order \{\{order\}\} left with \{\{tracking\}\}; call \*+5678 or mail \*+@example\.com\. \{\{name\}\}, this is \{\{agent\}\}\.$/,
    );
    for (const secret of ['Zhang', 'Wei', '2024112900123', 'SF1234567890123', '13812345678', 'zw@example.com', 'Agent One']) {
      expect(out).not.toContain(secret);
    }
    expect(depersonalize('王芳您好，订单 2024112900123 已发货', { customerName: '王芳' })).toBe('{{name}}您好，订单 {{order}} 已发货');
  });

  it('reads number placeholders as a long number for similarity', () => {
    expect(indexableText('where is order {{order}} for {{name}}')).toBe('where is order 0000000000 for  ');
  });
});
