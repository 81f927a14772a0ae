import type { Locale } from './i18n';

/** The KPI view's strings (issue 16, docs/kpis.md), zh and en. */
export interface KpiStrings {
  tab: string;
  title: string;
  intro: string;
  ranges: { today: string; '7d': string; '30d': string; custom: string };
  from: string;
  to: string;
  skillGroup: string;
  channel: string;
  tier: string;
  agent: string;
  all: string;
  refresh: string;
  loading: string;
  exportCsv: string;
  tiles: {
    csat: string;
    fcr: string;
    aht: string;
    asa: string;
    serviceLevel: string;
    abandonment: string;
    occupancy: string;
    aiContainment: string;
    handoverRate: string;
    slaBreaches: string;
  };
  sub: {
    csat: (answered: number, rate: string) => string;
    fcr: (n: number, handled: number) => string;
    aht: (n: number) => string;
    asa: (n: number) => string;
    serviceLevel: (target: string) => string;
    abandonment: (n: number, queued: number) => string;
    occupancy: string;
    ai: (n: number) => string;
    slaBreaches: (first: number, next: number) => string;
  };
  belowTarget: string;
  charts: { rates: string; times: string; volume: string; hour: string; day: string };
  series: {
    serviceLevel: string;
    abandonment: string;
    fcr: string;
    asa: string;
    aht: string;
    answered: string;
    abandoned: string;
    breaches: string;
  };
  channels: Record<string, string>;
  tiers: Record<string, string>;
  none: string;
  /** The queue row's SLA chip. */
  sla: { first: string; next: string; late: (overdue: string) => string; title: (kind: string, due: string) => string };
  errors: { range: string; network: string; FORBIDDEN: string; VALIDATION_FAILED: string; fallback: string } & Record<string, string>;
}

const STRINGS: Record<Locale, KpiStrings> = {
  en: {
    tab: 'KPIs',
    title: 'KPIs',
    intro:
      'The contact centre’s numbers over a time range, from the event log (definitions: docs/kpis.md). “—” means nothing to measure yet.',
    ranges: { today: 'Today', '7d': '7 days', '30d': '30 days', custom: 'Custom' },
    from: 'From',
    to: 'To',
    skillGroup: 'Skill group',
    channel: 'Channel',
    tier: 'Tier',
    agent: 'Agent',
    all: 'All',
    refresh: 'Refresh',
    loading: 'Loading…',
    exportCsv: 'Export CSV',
    tiles: {
      csat: 'CSAT',
      fcr: 'First contact resolution',
      aht: 'Average handle time',
      asa: 'Average speed of answer',
      serviceLevel: 'Service level',
      abandonment: 'Abandonment',
      occupancy: 'Occupancy',
      aiContainment: 'AI containment',
      handoverRate: 'Hand-over rate',
      slaBreaches: 'SLA breaches',
    },
    sub: {
      csat: (n, rate) => `${n} ${n === 1 ? 'rating' : 'ratings'} · response ${rate}`,
      fcr: (n, h) => `${n} of ${h} handled`,
      aht: (n) => `${n} handled`,
      asa: (n) => `${n} answered`,
      serviceLevel: (target) => `target ${target}`,
      abandonment: (n, q) => `${n} of ${q} queued`,
      occupancy: 'handling / staffed time',
      ai: (n) => `${n} AI contacts`,
      slaBreaches: (f, n) => `first ${f} · next ${n}`,
    },
    belowTarget: 'below target',
    charts: { rates: 'Rates', times: 'Waiting and handling (seconds)', volume: 'Contacts', hour: 'by hour', day: 'by day' },
    series: {
      serviceLevel: 'Service level',
      abandonment: 'Abandonment',
      fcr: 'FCR',
      asa: 'ASA',
      aht: 'AHT',
      answered: 'Answered',
      abandoned: 'Abandoned',
      breaches: 'SLA breaches',
    },
    channels: { WB: 'Web', AP: 'App', WX: 'WeChat', XM: 'XMPP', SP: 'Voice' },
    tiers: { expert: 'Expert', assisted: 'Assisted', ai: 'AI' },
    none: '—',
    sla: { first: 'SLA', next: 'Reply', late: (o) => `late ${o}`, title: (k, due) => `${k} due ${due} (business hours)` },
    errors: {
      range: 'Pick two dates, the first not after the second.',
      network: 'The server did not answer. Try again.',
      FORBIDDEN: 'You may not see these numbers.',
      VALIDATION_FAILED: 'The range or a filter is not valid.',
      fallback: 'The numbers could not be loaded.',
    },
  },
  zh: {
    tab: '指标',
    title: '指标',
    intro: '按时间范围统计的服务指标，来自事件日志（定义见 docs/kpis.md）。“—”表示暂无可计算的数据。',
    ranges: { today: '今天', '7d': '近 7 天', '30d': '近 30 天', custom: '自定义' },
    from: '开始',
    to: '结束',
    skillGroup: '技能组',
    channel: '渠道',
    tier: '分级',
    agent: '坐席',
    all: '全部',
    refresh: '刷新',
    loading: '加载中…',
    exportCsv: '导出 CSV',
    tiles: {
      csat: '满意度 CSAT',
      fcr: '首次解决率 FCR',
      aht: '平均处理时长 AHT',
      asa: '平均应答速度 ASA',
      serviceLevel: '服务水平',
      abandonment: '放弃率',
      occupancy: '占用率',
      aiContainment: 'AI 自助解决率',
      handoverRate: '转人工率',
      slaBreaches: 'SLA 超时',
    },
    sub: {
      csat: (n, rate) => `${n} 条评价 · 回复率 ${rate}`,
      fcr: (n, h) => `已处理 ${h} 个中 ${n} 个`,
      aht: (n) => `已处理 ${n} 个`,
      asa: (n) => `已应答 ${n} 个`,
      serviceLevel: (target) => `目标 ${target}`,
      abandonment: (n, q) => `排队 ${q} 个中放弃 ${n} 个`,
      occupancy: '处理时间 / 在岗时间',
      ai: (n) => `AI 接待 ${n} 个`,
      slaBreaches: (f, n) => `首次响应 ${f} · 后续响应 ${n}`,
    },
    belowTarget: '低于目标',
    charts: { rates: '比率', times: '等待与处理（秒）', volume: '会话量', hour: '按小时', day: '按天' },
    series: {
      serviceLevel: '服务水平',
      abandonment: '放弃率',
      fcr: '首次解决率',
      asa: '平均应答',
      aht: '平均处理',
      answered: '已应答',
      abandoned: '已放弃',
      breaches: 'SLA 超时',
    },
    channels: { WB: '网页', AP: '应用', WX: '微信', XM: 'XMPP', SP: '语音' },
    tiers: { expert: '专家', assisted: '辅助', ai: 'AI' },
    none: '—',
    sla: { first: '首响', next: '回复', late: (o) => `超时 ${o}`, title: (k, due) => `${k}截止 ${due}（按工作时间）` },
    errors: {
      range: '请选择两个日期，开始不能晚于结束。',
      network: '服务器没有响应，请重试。',
      FORBIDDEN: '你无权查看这些数据。',
      VALIDATION_FAILED: '时间范围或筛选条件无效。',
      fallback: '无法加载指标。',
    },
  },
};

export const kpiStrings = (locale: Locale): KpiStrings => STRINGS[locale];

const tagOf = (locale: Locale) => (locale === 'zh' ? 'zh-CN' : 'en-GB');

/** A share 0..1 as a percentage (one decimal at most); null → "—". */
export function formatShare(v: number | null, locale: Locale): string {
  if (v === null) return '—';
  return new Intl.NumberFormat(tagOf(locale), { style: 'percent', maximumFractionDigits: 1 }).format(v);
}

/** A count or score with the locale's separators (one decimal at most); null → "—". */
export function formatNumber(v: number | null, locale: Locale, digits = 1): string {
  if (v === null) return '—';
  return new Intl.NumberFormat(tagOf(locale), { maximumFractionDigits: digits }).format(v);
}

/** Seconds as a short duration: `42 s` / `42 秒`, `3 min 5 s` / `3 分 5 秒`, `1 h 2 min` / `1 小时 2 分`; null → "—". */
export function formatDuration(seconds: number | null, locale: Locale): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const u = locale === 'zh' ? { h: '小时', m: '分', s: '秒' } : { h: 'h', m: 'min', s: 's' };
  const n = (x: number) => new Intl.NumberFormat(tagOf(locale)).format(x);
  if (h > 0) return `${n(h)} ${u.h} ${m} ${u.m}`;
  if (m > 0) return `${m} ${u.m} ${r} ${u.s}`;
  return `${r} ${u.s}`;
}

/** A countdown to an SLA due time: `4:59` / `-0:12` (overdue) / `1:02:03`. */
export function formatCountdown(ms: number): string {
  const neg = ms < 0;
  const t = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const body = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
  return neg ? `-${body}` : body;
}
