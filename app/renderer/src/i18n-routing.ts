import type { CandidateCode, RoutingTrigger, Tier } from '../../../common/routing/types';
import type { Locale } from './i18n';

/**
 * The strings of the routing admin page, the routing explanation and the shell around them (issue 11),
 * in every workstation language. Read with `routingStrings(useLocale())`.
 */
export interface RoutingStrings {
  shell: {
    viewWorkstation: string;
    viewRouting: string;
    views: string;
    link: { online: string; connecting: string; offline: string };
    presence: string;
    presences: { available: string; busy: string; away: string; 'after-call-work': string; offline: string };
    signOut: string;
    /** After a presence: when it ends (after-call work). */
    until: (time: string) => string;
  };
  tiers: Record<Tier, string>;
  codes: Record<CandidateCode, string>;
  triggers: Record<RoutingTrigger, string>;
  explain: {
    title: string;
    value: string;
    difficulty: string;
    priority: string;
    tier: string;
    configVersion: (v: number) => string;
    offerConfigVersion: (v: number) => string;
    formula: (wv: number, wd: number) => string;
    thresholds: (expert: number, assisted: number) => string;
    skillGroup: string;
    trigger: string;
    ring: string;
    ringText: (index: number, minProficiency: number, groups: string) => string;
    effectivePriority: string;
    waited: string;
    transfer: string;
    transferText: (from: string, to: string, mode: 'warm' | 'cold') => string;
    offer: string;
    offeredTo: string;
    nobody: string;
    decidedAt: string;
    factors: (n: number) => string;
    candidates: (n: number) => string;
    noCandidates: string;
    agent: string;
    chosen: string;
    proficiency: string;
    why: string;
    you: string;
  };
  context: { label: string; customer: string; channels: string; history: string; firstContact: string; transfer: string };
  page: {
    title: string;
    inForce: (v: number) => string;
    publishedBy: (who: string, at: string) => string;
    noComment: string;
    configFile: string;
    readOnly: string;
    loading: string;
    loadFailed: (why: string) => string;
    retry: string;
  };
  editor: {
    title: string;
    sections: {
      tiers: string;
      value: string;
      capacity: string;
      timers: string;
      aging: string;
      skills: string;
      widening: string;
      serviceLevel: string;
    };
    weights: string;
    weightsHint: string;
    valueWeight: string;
    difficultyWeight: string;
    weightSlider: string;
    thresholds: string;
    expertAbove: string;
    assistedAbove: string;
    spendWeight: string;
    satisfactionWeight: string;
    frequencyWeight: string;
    factorWeightsHint: string;
    spendCap: string;
    frequencyCap: string;
    chatCapacity: string;
    voiceCapacity: string;
    chatsDuringVoice: string;
    chatsDuringVoiceHint: string;
    offerTimeout: string;
    reassignAfter: string;
    acwChat: string;
    acwVoice: string;
    pointsPerMinute: string;
    maxBoost: string;
    agingHint: string;
    defaultProficiency: string;
    proficiencyHint: string;
    group: string;
    fallback: string;
    none: string;
    agentCol: string;
    proficiencyCol: string;
    defaultLevel: (n: number) => string;
    expertCounts: string;
    addGroup: string;
    addGroupPlaceholder: string;
    addAgent: string;
    addAgentPlaceholder: string;
    add: string;
    noMembers: string;
    ringsFor: (tier: string) => string;
    ringCol: string;
    afterSeconds: string;
    minProficiency: string;
    addFallback: string;
    addSkillGroups: string;
    addRing: string;
    removeRing: string;
    wideningHint: string;
    slThreshold: string;
    slTarget: string;
    changes: (n: number, v: number) => string;
    noChanges: (v: number) => string;
    discard: string;
    problems: (n: number) => string;
    changed: string;
  };
  issues: {
    min: (n: number) => string;
    above: (n: number) => string;
    max: (n: number) => string;
    integer: string;
    number: string;
    tooFew: (n: number) => string;
    tooMany: (n: number) => string;
    weightsSum: string;
    thresholdsOrder: string;
    firstRing: string;
    ringOrder: string;
    selfFallback: string;
    server: string;
  };
  publish: {
    comment: string;
    commentPlaceholder: string;
    publishAs: (v: number) => string;
    publishing: string;
    commentNeeded: string;
    fixProblems: string;
    published: (v: number) => string;
    failed: (why: string) => string;
  };
  whatIf: {
    title: string;
    hint: string;
    compare: string;
    comparing: string;
    window: string;
    from: string;
    to: string;
    windowHint: string;
    workload: string;
    source: string;
    sourceAuto: string;
    sourceGenerated: string;
    contactsPerHour: string;
    hours: string;
    meanHandle: string;
    meanPatience: string;
    seed: string;
    sourceWindow: (from: string, to: string) => string;
    sourceGeneratedText: string;
    contacts: (n: number) => string;
    took: (ms: number) => string;
    agents: (n: number) => string;
    aiTierOn: string;
    aiTierOff: string;
    notes: string;
    unanswered: string;
    current: (v: number) => string;
    currentShort: string;
    draft: string;
    metric: string;
    delta: string;
    /** The unit of a difference of two percentages. */
    pp: string;
    seconds: string;
    serviceLevel: string;
    abandonment: string;
    occupancy: string;
    containment: string;
    asa: string;
    ratesChart: string;
    tierMix: string;
    bySkillGroup: string;
    groupCol: string;
    contactsCol: string;
    changed: string;
    changedSummary: (total: number, tier: number, agent: number) => string;
    showingFirst: (n: number) => string;
    noChanges: string;
    contactCol: string;
    arrivedCol: string;
    tierCol: string;
    agentCol: string;
    priorityCol: string;
    queue: string;
    generatedContact: (i: number) => string;
    stale: string;
    failed: (why: string) => string;
  };
  versions: {
    title: string;
    version: string;
    author: string;
    time: string;
    comment: string;
    view: string;
    hide: string;
    rollback: string;
    confirm: (v: number) => string;
    confirmButton: string;
    cancel: string;
    inForce: string;
    diffTitle: string;
    same: string;
    editFrom: string;
    rollbackComment: string;
    rolledBack: (from: number, v: number) => string;
  };
  lookup: {
    title: string;
    hint: string;
    sessionId: string;
    show: string;
    notFound: string;
    noDecision: string;
    status: string;
    assigned: string;
  };
  errors: { network: string; forbidden: string; invalid: string };
}

const EN: RoutingStrings = {
  shell: {
    viewWorkstation: 'Workstation',
    viewRouting: 'Routing',
    views: 'View',
    link: { online: 'Connected', connecting: 'Reconnecting…', offline: 'Offline' },
    presence: 'Presence',
    presences: { available: 'Available', busy: 'Busy', away: 'Away', 'after-call-work': 'After-call work', offline: 'Offline' },
    signOut: 'Sign out',
    until: (time) => ` · until ${time}`,
  },
  tiers: { expert: 'expert', assisted: 'assisted', ai: 'AI' },
  codes: {
    chosen: 'chosen',
    'not-in-skill-group': 'not in skill group',
    presence: 'not available',
    'at-capacity': 'at capacity',
    'mixed-load': 'mixed-load rule',
    'declined-recently': 'declined recently',
    'below-ring-proficiency': 'below the ring’s proficiency',
    'lower-proficiency': 'lower proficiency',
    'shorter-idle': 'idle for less time',
    'lost-race': 'slot taken by another server',
    'transfer-source': 'transferring agent',
  },
  triggers: {
    new: 'new contact',
    recovery: 'server restart',
    timeout: 'offer timed out',
    'agent-gone': 'agent went away',
    released: 'released by the agent',
    'agent-available': 'an agent became available',
    'cooled-down': 'cool-down ended',
    'handed-over': 'handed over by the AI',
    widened: 'a wider ring opened',
    transferred: 'transferred',
    rescored: 'scored again after a new message',
    declined: 'the agent declined the offer',
    moved: 'the customer went on from another channel',
  },
  explain: {
    title: 'Routing',
    value: 'Value',
    difficulty: 'Difficulty',
    priority: 'Priority',
    tier: 'Tier',
    configVersion: (v) => `config v${v}`,
    offerConfigVersion: (v) => `offer under v${v}`,
    formula: (wv, wd) => `${wv} × value + ${wd} × difficulty`,
    thresholds: (e, a) => `expert > ${e}, assisted > ${a}`,
    skillGroup: 'Skill group',
    trigger: 'Trigger',
    ring: 'Ring',
    ringText: (i, min, groups) => `ring ${i + 1}: proficiency ≥ ${min}${groups ? ` · ${groups}` : ''}`,
    effectivePriority: 'With aging',
    waited: 'Waited',
    transfer: 'Transfer',
    transferText: (from, to, mode) => `${from} → ${to} (${mode === 'warm' ? 'warm' : 'cold'})`,
    offer: 'Offer',
    offeredTo: 'Offered to',
    nobody: 'nobody yet (queued)',
    decidedAt: 'Decided',
    factors: (n) => `Score factors (${n})`,
    candidates: (n) => `Candidate agents (${n})`,
    noCandidates: 'No candidate agents were recorded for this decision.',
    agent: 'Agent',
    chosen: 'Chosen',
    proficiency: 'Prof.',
    why: 'Why',
    you: 'you',
  },
  context: {
    label: 'Customer context',
    customer: 'Customer',
    channels: 'Channels',
    history: 'History',
    firstContact: 'First contact.',
    transfer: 'Transfer',
  },
  page: {
    title: 'Routing configuration',
    inForce: (v) => `Version ${v} in force`,
    publishedBy: (who, at) => `published by ${who} · ${at}`,
    noComment: 'no comment',
    configFile: 'the config file',
    readOnly: 'Read only: only admins publish or roll back.',
    loading: 'Loading the routing configuration…',
    loadFailed: (why) => `Could not load the routing configuration: ${why}`,
    retry: 'Try again',
  },
  editor: {
    title: 'Draft',
    sections: {
      tiers: 'Priority and tiers',
      value: 'Value score',
      capacity: 'Capacity',
      timers: 'Offers and timers',
      aging: 'Waiting-time aging',
      skills: 'Skill groups and proficiency',
      widening: 'Widening rings',
      serviceLevel: 'Service level',
    },
    weights: 'Priority weights',
    weightsHint: 'priority = value × weight + difficulty × weight; the two weights sum to 1',
    valueWeight: 'Value weight',
    difficultyWeight: 'Difficulty weight',
    weightSlider: 'Value ↔ difficulty',
    thresholds: 'Tier thresholds (priority 0–100)',
    expertAbove: 'Expert above',
    assistedAbove: 'Assisted above',
    spendWeight: 'Spend weight',
    satisfactionWeight: 'Satisfaction (CSAT) weight',
    frequencyWeight: 'Contact frequency weight',
    factorWeightsHint: 'Relative weights of the factors inside the value score',
    spendCap: 'Spend cap',
    frequencyCap: 'Contacts per 30 days cap',
    chatCapacity: 'Chats at once',
    voiceCapacity: 'Calls at once',
    chatsDuringVoice: 'Chats during a call',
    chatsDuringVoiceHint: 'While on a call an agent gets no chat beyond this many; 0: a call is exclusive',
    offerTimeout: 'Offer timeout (s)',
    reassignAfter: 'Take back a gone agent’s chats after (s)',
    acwChat: 'After-call work, chat (s)',
    acwVoice: 'After-call work, voice (s)',
    pointsPerMinute: 'Points per minute waited',
    maxBoost: 'Maximum boost',
    agingHint: 'Queue order = priority + min(maximum, minutes waited × points)',
    defaultProficiency: 'Default proficiency',
    proficiencyHint: 'Proficiency 1 (learning) … 5 (expert); members without an entry have the default',
    group: 'Skill group',
    fallback: 'Fallback group',
    none: '(none)',
    agentCol: 'Agent',
    proficiencyCol: 'Proficiency',
    defaultLevel: (n) => `default (${n})`,
    expertCounts: 'expert: counts as 5',
    addGroup: 'Add',
    addGroupPlaceholder: 'skill group id',
    addAgent: 'Add',
    addAgentPlaceholder: 'username',
    add: 'Add',
    noMembers: 'No members on record.',
    ringsFor: (tier) => `${tier} tier`,
    ringCol: 'Ring',
    afterSeconds: 'After (s)',
    minProficiency: 'Min. proficiency',
    addFallback: 'Fallback',
    addSkillGroups: 'Add skill groups',
    addRing: 'Add ring',
    removeRing: 'Remove ring',
    wideningHint: 'While a contact waits, each ring lets more agents take it: lower proficiency, the fallback group, other groups',
    slThreshold: 'Answered within (s)',
    slTarget: 'Target (%)',
    changes: (n, v) => `${n} ${n === 1 ? 'change' : 'changes'} from version ${v}`,
    noChanges: (v) => `Same as version ${v}`,
    discard: 'Discard changes',
    problems: (n) => `${n} ${n === 1 ? 'problem' : 'problems'} to fix`,
    changed: 'changed',
  },
  issues: {
    min: (n) => `at least ${n}`,
    above: (n) => `must be above ${n}`,
    max: (n) => `at most ${n}`,
    integer: 'a whole number',
    number: 'enter a number',
    tooFew: (n) => `at least ${n}`,
    tooMany: (n) => `at most ${n}`,
    weightsSum: 'value + difficulty must be 1',
    thresholdsOrder: 'the expert threshold must be above the assisted one',
    firstRing: 'the first ring starts at 0 s',
    ringOrder: 'rings must start later and later',
    selfFallback: 'a skill group cannot fall back to itself',
    server: 'server',
  },
  publish: {
    comment: 'Comment',
    commentPlaceholder: 'Why this change (kept with the version)',
    publishAs: (v) => `Publish as version ${v}`,
    publishing: 'Publishing…',
    commentNeeded: 'Say why in a comment',
    fixProblems: 'Fix the problems first',
    published: (v) => `Version ${v} published: the router uses it from its next decision.`,
    failed: (why) => `Not published: ${why}`,
  },
  whatIf: {
    title: 'What-if: current vs draft',
    hint: 'Replays recorded contacts (or a generated workload) under the version in force and under the draft.',
    compare: 'Compare',
    comparing: 'Comparing…',
    window: 'Replay window',
    from: 'From',
    to: 'To',
    windowHint: 'empty: the last 24 hours',
    workload: 'Generated workload',
    source: 'Source',
    sourceAuto: 'recorded contacts, else generated',
    sourceGenerated: 'always generated',
    contactsPerHour: 'Contacts per hour',
    hours: 'Hours',
    meanHandle: 'Mean handling (s)',
    meanPatience: 'Mean patience (s)',
    seed: 'Seed',
    sourceWindow: (from, to) => `Replayed recorded contacts ${from} – ${to}`,
    sourceGeneratedText: 'Generated workload (no recorded contacts replayed)',
    contacts: (n) => `${n} ${n === 1 ? 'contact' : 'contacts'}`,
    took: (ms) => `${ms} ms`,
    agents: (n) => `${n} ${n === 1 ? 'agent' : 'agents'}`,
    aiTierOn: 'AI tier answering',
    aiTierOff: 'AI tier off: ai-tier contacts go to people',
    notes: 'What the replay assumed',
    unanswered: 'Unanswered',
    current: (v) => `Current (v${v})`,
    currentShort: 'Current',
    draft: 'Draft',
    metric: 'Metric',
    delta: 'Change',
    pp: ' pp',
    seconds: ' s',
    serviceLevel: 'Service level',
    abandonment: 'Abandonment',
    occupancy: 'Occupancy',
    containment: 'AI containment',
    asa: 'ASA (s)',
    ratesChart: 'Rates, current vs draft (%)',
    tierMix: 'Tier mix',
    bySkillGroup: 'By skill group',
    groupCol: 'Skill group',
    contactsCol: 'Contacts',
    changed: 'Contacts that would change',
    changedSummary: (total, tier, agent) => `${total} changed: ${tier} tier, ${agent} agent`,
    showingFirst: (n) => `showing the first ${n}`,
    noChanges: 'No contact changes tier or agent.',
    contactCol: 'Contact',
    arrivedCol: 'Arrived',
    tierCol: 'Tier',
    agentCol: 'Agent',
    priorityCol: 'Priority',
    queue: 'queue',
    generatedContact: (i) => `#${i + 1}`,
    stale: 'The draft changed since this comparison: compare again.',
    failed: (why) => `Comparison failed: ${why}`,
  },
  versions: {
    title: 'Versions',
    version: 'Version',
    author: 'By',
    time: 'Published',
    comment: 'Comment',
    view: 'View',
    hide: 'Hide',
    rollback: 'Roll back to this',
    confirm: (v) => `Publish version ${v}’s config again, as a new version?`,
    confirmButton: 'Roll back',
    cancel: 'Cancel',
    inForce: 'in force',
    diffTitle: 'Differences from the version in force',
    same: 'Same as the version in force.',
    editFrom: 'Start a draft from this version',
    rollbackComment: 'Comment (optional)',
    rolledBack: (from, v) => `Rolled back to version ${from}: version ${v} is in force.`,
  },
  lookup: {
    title: 'Decision lookup',
    hint: 'Why a contact went where it went',
    sessionId: 'Contact id',
    show: 'Show',
    notFound: 'No such contact (or not in your skill groups).',
    noDecision: 'This contact has no routing decision yet.',
    status: 'Status',
    assigned: 'Agent',
  },
  errors: { network: 'the server did not answer', forbidden: 'not allowed for your role', invalid: 'the server refused it' },
};

const ZH: RoutingStrings = {
  shell: {
    viewWorkstation: '工作台',
    viewRouting: '路由',
    views: '视图',
    link: { online: '已连接', connecting: '正在重连…', offline: '离线' },
    presence: '状态',
    presences: { available: '空闲', busy: '忙碌', away: '离开', 'after-call-work': '话后处理', offline: '离线' },
    signOut: '退出登录',
    until: (time) => ` · 至 ${time}`,
  },
  tiers: { expert: '专家', assisted: '辅助', ai: 'AI' },
  codes: {
    chosen: '已选中',
    'not-in-skill-group': '不在技能组',
    presence: '状态不可接待',
    'at-capacity': '已满负荷',
    'mixed-load': '混合负载限制',
    'declined-recently': '刚拒绝过',
    'below-ring-proficiency': '熟练度低于本环要求',
    'lower-proficiency': '熟练度较低',
    'shorter-idle': '空闲时间较短',
    'lost-race': '名额被其他节点占用',
    'transfer-source': '转出坐席',
  },
  triggers: {
    new: '新会话',
    recovery: '服务重启',
    timeout: '分配超时',
    'agent-gone': '坐席离开',
    released: '坐席释放',
    'agent-available': '有坐席空闲',
    'cooled-down': '冷却结束',
    'handed-over': 'AI 转人工',
    widened: '扩大了接待范围',
    transferred: '转接',
    rescored: '新消息后重新评分',
    declined: '坐席拒绝了分配',
    moved: '客户换了渠道继续',
  },
  explain: {
    title: '路由',
    value: '价值',
    difficulty: '难度',
    priority: '优先级',
    tier: '分层',
    configVersion: (v) => `配置第 ${v} 版`,
    offerConfigVersion: (v) => `分配时为第 ${v} 版`,
    formula: (wv, wd) => `${wv} × 价值 + ${wd} × 难度`,
    thresholds: (e, a) => `专家 > ${e}，辅助 > ${a}`,
    skillGroup: '技能组',
    trigger: '触发',
    ring: '范围环',
    ringText: (i, min, groups) => `第 ${i + 1} 环：熟练度 ≥ ${min}${groups ? ` · ${groups}` : ''}`,
    effectivePriority: '含等待加权',
    waited: '已等待',
    transfer: '转接',
    transferText: (from, to, mode) => `${from} → ${to}（${mode === 'warm' ? '咨询转接' : '直接转接'}）`,
    offer: '分配',
    offeredTo: '分配给',
    nobody: '暂无（排队中）',
    decidedAt: '决策时间',
    factors: (n) => `评分因子（${n}）`,
    candidates: (n) => `候选坐席（${n}）`,
    noCandidates: '此决策未记录候选坐席。',
    agent: '坐席',
    chosen: '选中',
    proficiency: '熟练度',
    why: '原因',
    you: '你',
  },
  context: { label: '客户信息', customer: '客户', channels: '渠道', history: '历史会话', firstContact: '首次联系。', transfer: '转接' },
  page: {
    title: '路由配置',
    inForce: (v) => `当前生效：第 ${v} 版`,
    publishedBy: (who, at) => `${who} 发布于 ${at}`,
    noComment: '无说明',
    configFile: '配置文件',
    readOnly: '只读：仅管理员可以发布或回滚。',
    loading: '正在加载路由配置…',
    loadFailed: (why) => `无法加载路由配置：${why}`,
    retry: '重试',
  },
  editor: {
    title: '草稿',
    sections: {
      tiers: '优先级与分层',
      value: '价值分',
      capacity: '接待容量',
      timers: '分配与计时',
      aging: '等待时间加权',
      skills: '技能组与熟练度',
      widening: '逐级扩大接待范围',
      serviceLevel: '服务水平',
    },
    weights: '优先级权重',
    weightsHint: '优先级 = 价值 × 权重 + 难度 × 权重；两个权重之和为 1',
    valueWeight: '价值权重',
    difficultyWeight: '难度权重',
    weightSlider: '价值 ↔ 难度',
    thresholds: '分层阈值（优先级 0–100）',
    expertAbove: '专家层：高于',
    assistedAbove: '辅助层：高于',
    spendWeight: '消费额权重',
    satisfactionWeight: '满意度（CSAT）权重',
    frequencyWeight: '联系频次权重',
    factorWeightsHint: '各因子在价值分中的相对权重',
    spendCap: '消费额上限',
    frequencyCap: '30 天联系次数上限',
    chatCapacity: '同时接待会话数',
    voiceCapacity: '同时通话数',
    chatsDuringVoice: '通话中可接会话数',
    chatsDuringVoiceHint: '通话中最多再接这么多会话；0 表示通话时不接会话',
    offerTimeout: '分配超时（秒）',
    reassignAfter: '坐席离开后收回会话（秒）',
    acwChat: '话后处理：会话（秒）',
    acwVoice: '话后处理：语音（秒）',
    pointsPerMinute: '每等待一分钟加分',
    maxBoost: '最高加分',
    agingHint: '排队顺序 = 优先级 + min(最高加分, 等待分钟数 × 每分钟加分)',
    defaultProficiency: '默认熟练度',
    proficiencyHint: '熟练度 1（学习中）… 5（专家）；未单独设置的成员使用默认值',
    group: '技能组',
    fallback: '后备技能组',
    none: '（无）',
    agentCol: '坐席',
    proficiencyCol: '熟练度',
    defaultLevel: (n) => `默认（${n}）`,
    expertCounts: '专家：按 5 计',
    addGroup: '添加',
    addGroupPlaceholder: '技能组编号',
    addAgent: '添加',
    addAgentPlaceholder: '用户名',
    add: '添加',
    noMembers: '暂无成员记录。',
    ringsFor: (tier) => `${tier}层`,
    ringCol: '环',
    afterSeconds: '等待（秒）后',
    minProficiency: '最低熟练度',
    addFallback: '后备组',
    addSkillGroups: '加入技能组',
    addRing: '添加一环',
    removeRing: '删除此环',
    wideningHint: '会话等待越久，每一环让更多坐席可以接待：降低熟练度要求、加入后备组或其他技能组',
    slThreshold: '在（秒）内接起',
    slTarget: '目标（%）',
    changes: (n, v) => `相对第 ${v} 版有 ${n} 处改动`,
    noChanges: (v) => `与第 ${v} 版相同`,
    discard: '放弃改动',
    problems: (n) => `有 ${n} 个问题需要修正`,
    changed: '已改动',
  },
  issues: {
    min: (n) => `不能小于 ${n}`,
    above: (n) => `必须大于 ${n}`,
    max: (n) => `不能大于 ${n}`,
    integer: '必须是整数',
    number: '请输入数字',
    tooFew: (n) => `至少 ${n} 项`,
    tooMany: (n) => `最多 ${n} 项`,
    weightsSum: '价值权重与难度权重之和必须为 1',
    thresholdsOrder: '专家阈值必须高于辅助阈值',
    firstRing: '第一环必须从 0 秒开始',
    ringOrder: '各环的开始时间必须依次递增',
    selfFallback: '技能组不能以自身为后备',
    server: '服务器',
  },
  publish: {
    comment: '说明',
    commentPlaceholder: '为什么改动（随版本保存）',
    publishAs: (v) => `发布为第 ${v} 版`,
    publishing: '正在发布…',
    commentNeeded: '请填写发布说明',
    fixProblems: '请先修正问题',
    published: (v) => `已发布第 ${v} 版：路由从下一次决策起使用它。`,
    failed: (why) => `未发布：${why}`,
  },
  whatIf: {
    title: '模拟对比：当前 vs 草稿',
    hint: '用生效版本和草稿分别回放已记录的会话（或生成的负载）。',
    compare: '对比',
    comparing: '正在对比…',
    window: '回放时段',
    from: '从',
    to: '到',
    windowHint: '留空：最近 24 小时',
    workload: '生成的负载',
    source: '来源',
    sourceAuto: '优先回放记录，否则生成',
    sourceGenerated: '始终生成',
    contactsPerHour: '每小时会话数',
    hours: '小时数',
    meanHandle: '平均处理时长（秒）',
    meanPatience: '平均耐心时长（秒）',
    seed: '随机种子',
    sourceWindow: (from, to) => `回放已记录的会话：${from} – ${to}`,
    sourceGeneratedText: '生成的负载（未回放已记录的会话）',
    contacts: (n) => `${n} 个会话`,
    took: (ms) => `用时 ${ms} 毫秒`,
    agents: (n) => `${n} 名坐席`,
    aiTierOn: 'AI 层自动应答',
    aiTierOff: 'AI 层未开启：AI 层会话转给人工',
    notes: '回放时的假设',
    unanswered: '无人接起',
    current: (v) => `当前（第 ${v} 版）`,
    currentShort: '当前',
    draft: '草稿',
    metric: '指标',
    delta: '变化（百分点）',
    pp: '',
    seconds: ' 秒',
    serviceLevel: '服务水平',
    abandonment: '放弃率',
    occupancy: '坐席占用率',
    containment: 'AI 自助解决率',
    asa: '平均应答速度（秒）',
    ratesChart: '各项比率：当前 vs 草稿（%）',
    tierMix: '分层占比',
    bySkillGroup: '按技能组',
    groupCol: '技能组',
    contactsCol: '会话数',
    changed: '会改变的会话',
    changedSummary: (total, tier, agent) => `共 ${total} 个改变：分层 ${tier} 个，坐席 ${agent} 个`,
    showingFirst: (n) => `显示前 ${n} 个`,
    noChanges: '没有会话改变分层或坐席。',
    contactCol: '会话',
    arrivedCol: '到达时间',
    tierCol: '分层',
    agentCol: '坐席',
    priorityCol: '优先级',
    queue: '排队',
    generatedContact: (i) => `#${i + 1}`,
    stale: '草稿在这次对比后又改动了：请重新对比。',
    failed: (why) => `对比失败：${why}`,
  },
  versions: {
    title: '版本历史',
    version: '版本',
    author: '发布人',
    time: '发布时间',
    comment: '说明',
    view: '查看',
    hide: '收起',
    rollback: '回滚到此版',
    confirm: (v) => `将第 ${v} 版的配置重新发布为一个新版本？`,
    confirmButton: '确认回滚',
    cancel: '取消',
    inForce: '生效中',
    diffTitle: '与生效版本的差异',
    same: '与生效版本相同。',
    editFrom: '以此版本开始编辑草稿',
    rollbackComment: '说明（可选）',
    rolledBack: (from, v) => `已回滚到第 ${from} 版：现在生效的是第 ${v} 版。`,
  },
  lookup: {
    title: '查询路由决策',
    hint: '看看一个会话为什么被分配到那里',
    sessionId: '会话编号',
    show: '查看',
    notFound: '没有这个会话（或不在你的技能组内）。',
    noDecision: '这个会话还没有路由决策。',
    status: '状态',
    assigned: '坐席',
  },
  errors: { network: '服务器没有响应', forbidden: '你的角色无权执行此操作', invalid: '服务器拒绝了请求' },
};

const ROUTING_STRINGS: Record<Locale, RoutingStrings> = { en: EN, zh: ZH };

/** The routing strings of a language. */
export const routingStrings = (locale: Locale): RoutingStrings => ROUTING_STRINGS[locale];

/** The BCP 47 tag dates and numbers are formatted with in a language. */
export const localeTag = (locale: Locale): string => (locale === 'zh' ? 'zh-CN' : 'en-GB');
