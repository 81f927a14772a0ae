/*
 * Written for Huiliu; Apache-2.0 with the project. Original sentences, none taken from a dataset.
 */

/**
 * Held-out check of the "asks for a person" detector on LONG messages (issue 10 safety run): a
 * problem told in a sentence or two with the ask inside it, and look-alikes of the same length that
 * tell a problem and mention staff without asking for anyone. Written before the seed data
 * (server/src/ai/data/human-request.ts) got its long asks, and never trained on: the detector is
 * measured on these, not fitted to them. `npm run eval -- tiers` reports recall and false positives.
 */
export const LONG_ASKS: { lang: 'zh' | 'en'; text: string }[] = [
  {
    lang: 'en',
    text: 'I ordered a blender on Monday and the tracking has not moved since Wednesday, could you get someone from your team to check it for me?',
  },
  {
    lang: 'en',
    text: 'The app keeps logging me out every time I try to pay and I have tried three browsers, I would rather talk to an actual person about this.',
  },
  {
    lang: 'en',
    text: 'My refund was approved ten days ago but nothing has arrived on my card, please pass me to a member of staff who can see the payment.',
  },
  {
    lang: 'en',
    text: 'You sent me the wrong size twice now and the return label does not work, I want to speak with a human agent about it.',
  },
  {
    lang: 'en',
    text: 'I have a question about a warranty claim for a laptop with a cracked hinge, can a real person call me back this afternoon?',
  },
  {
    lang: 'en',
    text: 'The coupon from your newsletter was rejected at checkout even though it has not expired, is there a live agent who can apply it manually?',
  },
  {
    lang: 'en',
    text: 'My account shows an order I never placed and I am worried someone has my password, connect me to your support staff please.',
  },
  {
    lang: 'en',
    text: 'Your automatic answers keep sending me the same link about delivery times, which does not help, so please transfer me to a person.',
  },
  {
    lang: 'en',
    text: 'The courier marked the parcel as delivered but it is not here and my neighbours have not seen it, I need to talk to someone at your company.',
  },
  { lang: 'en', text: 'I was charged for express shipping and it came in nine days, I would like a supervisor to look at the charge.' },
  {
    lang: 'en',
    text: 'Since the last update I cannot change my delivery address in the app, could a customer service representative do it for me?',
  },
  {
    lang: 'en',
    text: 'I bought a gift card for my sister and the code says invalid, please let me chat with one of your agents to sort it out.',
  },
  { lang: 'zh', text: '我上周买的空气炸锅到现在物流都没更新，麻烦找个客服帮我查一下到底怎么回事' },
  { lang: 'zh', text: '退货申请提交三次都失败了，系统一直提示网络错误，我想跟人工客服直接说' },
  { lang: 'zh', text: '收到的衣服颜色和图片完全不一样，尺码也不对，请安排一个工作人员联系我处理' },
  { lang: 'zh', text: '我的优惠券明明没过期却用不了，自动回复也没说清楚，能不能转个真人帮我看看' },
  { lang: 'zh', text: '快递显示已签收但我根本没收到，问了物业也没有，我需要你们的客服跟进一下' },
  { lang: 'zh', text: '发票抬头开错了，公司财务要求重开，这种情况麻烦让人工客服来处理吧' },
  { lang: 'zh', text: '账户里突然多了一笔我没下过的订单，我很担心被盗号，请马上帮我接通人工' },
  { lang: 'zh', text: '保修期内的耳机左边没声音了，寄修流程我看不懂，能不能让售后的同事打个电话给我' },
  { lang: 'zh', text: '退款说是三到五个工作日到账，现在已经两周了，我想找一个负责的人问清楚' },
  { lang: 'zh', text: '修改收货地址的按钮一直是灰色的，点不了，麻烦请一位客服帮我改一下' },
  { lang: 'zh', text: '会员积分昨天还在今天就清零了，这个问题机器人回答不了吧，给我找个人工' },
  { lang: 'zh', text: '我给父母买的手机激活不了，他们年纪大了不会弄，希望有客服人员能远程指导一下' },
];

export const LONG_NOT_ASKS: { lang: 'zh' | 'en'; text: string }[] = [
  {
    lang: 'en',
    text: 'I ordered a blender on Monday and the tracking has not moved since Wednesday, is it normal for it to take this long?',
  },
  {
    lang: 'en',
    text: 'The app keeps logging me out every time I try to pay and I have tried three browsers, is there a known problem with payments today?',
  },
  {
    lang: 'en',
    text: 'My refund was approved ten days ago but nothing has arrived on my card yet, how long do refunds to a credit card usually take?',
  },
  {
    lang: 'en',
    text: 'An agent told me last week that the replacement would ship on Friday, and it did, so thanks to your team for the quick help.',
  },
  {
    lang: 'en',
    text: 'I have a question about a warranty claim for a laptop with a cracked hinge, does the warranty cover accidental damage?',
  },
  {
    lang: 'en',
    text: 'The coupon from your newsletter was rejected at checkout even though it has not expired, what could be the reason?',
  },
  { lang: 'en', text: 'My manager asked me to order twenty of these chairs for the office, do you offer a discount for bulk orders?' },
  {
    lang: 'en',
    text: 'The courier marked the parcel as delivered and a neighbour had taken it in for me, so it is all fine now, no action needed.',
  },
  { lang: 'en', text: 'I was charged for express shipping and it came in nine days, how do I request the difference back?' },
  { lang: 'en', text: 'Since the last update I cannot change my delivery address in the app, where is that setting now?' },
  { lang: 'en', text: 'I bought a gift card for my sister and she wants to know whether it can be used on sale items too.' },
  { lang: 'en', text: 'The person who delivered my parcel was very polite and even carried it upstairs, please pass on my thanks.' },
  { lang: 'zh', text: '我上周买的空气炸锅到现在物流都没更新，一般要多久才会有新的物流信息' },
  { lang: 'zh', text: '退货申请提交三次都失败了，系统一直提示网络错误，是不是今天系统在维护' },
  { lang: 'zh', text: '收到的衣服颜色和图片完全不一样，尺码也不对，这种情况可以直接申请退货吗' },
  { lang: 'zh', text: '我的优惠券明明没过期却用不了，是不是有使用门槛或者指定商品才能用' },
  { lang: 'zh', text: '快递显示已签收，后来发现是邻居帮我代收了，已经拿到了，没事了' },
  { lang: 'zh', text: '发票抬头开错了，公司财务要求重开，请问在哪里可以申请重新开票' },
  { lang: 'zh', text: '上次客服小姐姐帮我处理得很快，这次想再买一台同款，还有货吗' },
  { lang: 'zh', text: '保修期内的耳机左边没声音了，寄修的运费需要我自己承担吗' },
  { lang: 'zh', text: '退款说是三到五个工作日到账，现在是第四天，还没到，请问是正常的吗' },
  { lang: 'zh', text: '修改收货地址的按钮一直是灰色的，是不是已经发货了就不能改了' },
  { lang: 'zh', text: '我们经理让我问一下，企业采购能不能走对公转账，需要什么材料' },
  { lang: 'zh', text: '我给父母买的手机激活不了，说明书上写要插卡才能激活，是这样吗' },
];

/** How a detector does on the held-out long messages: asks recognised and look-alikes left alone, per language. */
export function measureLongAsks(
  wantsHuman: (text: string) => boolean,
): Record<'zh' | 'en', { asks: [number, number]; lookAlikes: [number, number] }> {
  const count = (rows: typeof LONG_ASKS, lang: 'zh' | 'en', want: boolean): [number, number] => {
    const mine = rows.filter((r) => r.lang === lang);
    return [mine.filter((r) => wantsHuman(r.text) === want).length, mine.length];
  };
  return {
    zh: { asks: count(LONG_ASKS, 'zh', true), lookAlikes: count(LONG_NOT_ASKS, 'zh', false) },
    en: { asks: count(LONG_ASKS, 'en', true), lookAlikes: count(LONG_NOT_ASKS, 'en', false) },
  };
}
