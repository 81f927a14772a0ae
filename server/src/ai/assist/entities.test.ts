import { describe, expect, it } from 'vitest';
import { detailSpans, extractDetails, extractDetailsAll } from './entities';

describe('customer details in messages', () => {
  it('finds order and tracking numbers named in Chinese', () => {
    expect(extractDetails('我的订单号2024112900123还没到，运单号SF1234567890123')).toEqual({
      orders: ['2024112900123'],
      tracking: ['SF1234567890123'],
    });
    expect(extractDetails('订单：HL-2024-00077 快递单号：YT9876543210')).toEqual({ orders: ['HL-2024-00077'], tracking: ['YT9876543210'] });
    // Full-width digits, as Chinese input methods type them.
    expect(extractDetails('订单号２０２４１１２９００１２３').orders).toEqual(['2024112900123']);
  });

  it('finds order and tracking numbers named in English, with # and courier prefixes', () => {
    expect(extractDetails('Where is my order #2024120300456? tracking number is 1Z999AA10123456784')).toEqual({
      orders: ['2024120300456'],
      tracking: ['1Z999AA10123456784'],
    });
    expect(extractDetails('order HL-abc12345 please; the JD0012345678901 parcel').orders).toEqual(['HL-abc12345']);
    expect(extractDetails('the JD0012345678901 parcel').tracking).toEqual(['JD0012345678901']);
    expect(extractDetails('a bare 2024120300456 counts as an order').orders).toEqual(['2024120300456']);
  });

  it('never takes a phone, ID or card number, whatever keyword stands before it', () => {
    expect(extractDetails('order 4111111111111111, call 13812345678, ID 11010519491231002X')).toEqual({ orders: [], tracking: [] });
    expect(extractDetails('订单 13812345678')).toEqual({ orders: [], tracking: [] });
  });

  it('takes no words, short numbers or decimals for numbers', () => {
    expect(extractDetails('order status please, I ordered 3 days ago; the border 12345')).toEqual({ orders: [], tracking: [] });
    expect(extractDetails('paid 12345678901.50 yuan, pi is 3.1415926535')).toEqual({ orders: [], tracking: [] });
  });

  it('reads several messages newest first, without repeats', () => {
    const d = extractDetailsAll(['order 2024120300456 again', 'order 2024112900123 and 2024120300456']);
    expect(d.orders).toEqual(['2024120300456', '2024112900123']);
  });

  it('gives the spans to replace in the text as written', () => {
    const text = 'Order 2024120300456 ships with SF1234567890123.';
    expect(detailSpans(text).map((s) => [text.slice(s.start, s.end), s.kind])).toEqual([
      ['2024120300456', 'order'],
      ['SF1234567890123', 'tracking'],
    ]);
  });
});
