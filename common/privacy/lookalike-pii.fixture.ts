/**
 * Test data (masking and log-privacy suites): personal values written with look-alike characters,
 * Unicode spaces, other digit scripts or separators, as a reviewer found them unmasked.
 */
export const LOOKALIKE_PII: readonly string[] = [
  '138\u00a01234\u00a05678',
  '138\u20091234\u20095678',
  '138\u202f1234\u202f5678',
  '138\u30001234\u30005678',
  '4929\u20097226\u20095379\u20097141',
  '138.1234.5678',
  '(138) 1234-5678',
  '(010) 1234 5678',
  '𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖',
  '١٣٨١٢٣٤٥٦٧٨',
  '۱۳۸۱۲۳۴۵۶۷۸',
  '१३८१२३४५६७८',
  'zhang﹫example.com',
  'zhang＠example.com',
];
