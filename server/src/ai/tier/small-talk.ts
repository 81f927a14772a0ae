import { normalizeText } from '../text';

/** A turn with no question in it: a greeting, thanks, or a goodbye. */
export type SmallTalk = 'greeting' | 'thanks' | 'goodbye';

// Whole-message patterns only (after normalizeText: lower case, full-width folded): "hi, my card is
// blocked" is a question, not a greeting, and goes to the intent classifier.
const PATTERNS: readonly [SmallTalk, RegExp][] = [
  [
    'greeting',
    /^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|greetings|你好|您好|嗨|哈喽|在吗|在不在|有人吗|早上好|下午好|晚上好)(?:\s*(?:there|呀|啊|哦|~))?[\s!,.?。！，？~]*$/u,
  ],
  [
    'thanks',
    /^(?:thanks?(?: you)?(?: so much| very much| a lot)?|thx|ty|cheers|great,? thanks?|ok,? thanks?|okay,? thanks?|谢谢(?:你|您)?(?:了|啦)?|多谢|感谢|好的,?谢谢|好的|明白了|知道了|懂了)[\s!,.。！，~]*$/u,
  ],
  ['goodbye', /^(?:bye|goodbye|see you|that's all|that is all|没事了|没有了|再见|拜拜)[\s!,.。！，~]*$/u],
];

/** The small talk `text` is, or null when it carries a question or anything else. */
export function smallTalkOf(text: string): SmallTalk | null {
  const t = normalizeText(text).trim();
  if (t.length > 40) return null;
  for (const [kind, pattern] of PATTERNS) if (pattern.test(t)) return kind;
  return null;
}
