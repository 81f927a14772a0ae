import { describe, expect, it } from 'vitest';
import { maskPii } from './mask';
import { hasMaskedRun, maskContent, maskedPairs, restoreMasked } from './staff-view';

const DRAFT = 'We will call 13812345678 and mail li.lei@example.com about card 4716461583322103.';

describe('staff views of personal data (issue 17)', () => {
  it('masks the words of every content kind and leaves ids and events alone', () => {
    expect(maskContent({ kind: 'text', body: { text: 'call 13812345678' } })).toEqual({ kind: 'text', body: { text: 'call *******5678' } });
    const image = { kind: 'image' as const, body: { attachmentId: 'a1', mime: 'image/png', size: 3, caption: 'id 210203197503102721' } };
    expect(maskContent(image).body).toEqual({ ...image.body, caption: 'id **************2721' });
    const file = { kind: 'file' as const, body: { attachmentId: 'a2', name: 'li.lei@example.com.pdf', mime: 'application/pdf', size: 1 } };
    expect(maskContent(file).body.name).toBe('***@example.com.pdf');
    const event = { kind: 'event' as const, body: { name: 'staff.transfer', data: { to: '13812345678' } } };
    expect(maskContent(event)).toBe(event);
    const plain = { kind: 'text' as const, body: { text: 'order 12345 is late' } };
    expect(maskContent(plain)).toBe(plain);
  });

  it('pairs each masked stretch with the original characters it stands for', () => {
    expect(maskedPairs(DRAFT)).toEqual([
      { masked: '*******5678', plain: '13812345678' },
      { masked: '***@exa', plain: 'li.lei@exa' },
      { masked: '************2103', plain: '4716461583322103' },
    ]);
    expect(maskedPairs('nothing personal')).toEqual([]);
  });

  it('gives a reply written from a masked draft its values back, edited or not', () => {
    const shown = maskPii(DRAFT);
    expect(hasMaskedRun(shown)).toBe(true);
    expect(restoreMasked(shown, [DRAFT])).toBe(DRAFT);
    expect(restoreMasked(`Hello! ${shown.replace('We will', 'I will')}`, [DRAFT])).toBe(`Hello! ${DRAFT.replace('We will', 'I will')}`);
  });

  it('puts back two values that look alike masked in the order they came, and leaves runs from elsewhere', () => {
    const original = 'first 13812345678, then 13956785678';
    expect(maskPii(original)).toBe('first *******5678, then *******5678');
    expect(restoreMasked(maskPii(original), [original])).toBe(original);
    // A masked number the agent copied from a customer message is not in the draft: it stays masked.
    expect(restoreMasked('call *******0000 or *** later', [DRAFT])).toBe('call *******0000 or *** later');
  });
});
