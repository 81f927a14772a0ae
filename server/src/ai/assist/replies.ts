import { DEFAULT_FEATURES, extractFeatures, type FeatureOptions } from '../features';
import { indexableText, normalizeWhitespace } from './adapt';

/**
 * The past-reply memory (issue 10): agents' replies paired with the customer question they answered,
 * searched by the similarity of a new question to the stored ones (TF-IDF cosine over the language
 * core's own features, `ai/features.ts`: word unigrams and bigrams — English stemmed, Chinese
 * segmented by jieba — and Han character uni- and bigrams). Per skill group: a search never returns
 * another group's reply (RBAC). Bounded: the newest `max` pairs are kept, the oldest go first.
 *
 * Texts arrive depersonalised (`adapt.ts` `depersonalize`: PII masked, names and numbers as
 * placeholders); this class keeps them in memory only. Persistence, sealed, is `replies.sqlite.ts`.
 *
 * Search cost: an inverted index gives the stored questions sharing a not-too-common feature with the
 * query, and only those are scored, so a search reads a few hundred pairs, not all of them.
 */

/** One stored pair. */
export interface PastReply {
  id: string;
  skillGroup: string;
  /** The customer's question, depersonalised. */
  question: string;
  /** The agent's reply, depersonalised (placeholders for the next customer's details). */
  reply: string;
  /** Where it was said (a session of the same skill group). */
  sessionId: string;
  customerId: string;
  /** ISO 8601. */
  at: string;
}

export interface PastReplyHit {
  reply: PastReply;
  /** Cosine similarity of the questions, 0..1. */
  similarity: number;
}

/** How many pairs the memory keeps by default (the newest). */
export const PAST_REPLIES_MAX = 20_000;

/**
 * A past reply is offered to another customer only once agents sent the same (depersonalised) text to
 * at least this many different customers: a stock answer. A reply written for one customer may carry
 * their details that depersonalising cannot see — an address, another person's name, a passport
 * number — and must never reach the next customer's composer (privacy; issue 10 review).
 */
export const STOCK_REPLY_MIN_CUSTOMERS = 2;

/**
 * The features of a question: word and Han character n-grams as the intent model reads them, without
 * English character n-grams (they would make every pair ~10× bigger for little gain on whole questions).
 */
const OPTIONS: FeatureOptions = { ...DEFAULT_FEATURES, hanRange: [1, 2], weights: { w: 1, b: 0.6, c: 0, h: 0.8, e: 0, l: 0 } };
const GROUP_WEIGHT: Record<string, number> = { w: OPTIONS.weights.w, b: OPTIONS.weights.b, h: OPTIONS.weights.h };
/** A feature in more than this share of the stored questions does not nominate candidates (a stop word). */
const COMMON_SHARE = 0.05;

interface Doc {
  reply: PastReply;
  features: Int32Array;
  /** `(1 + ln tf) × group weight` per feature (idf applied at search time). */
  weights: Float32Array;
  /** Normalised reply text, to drop repeats. */
  key: string;
}

export class PastReplyMemory {
  private readonly docs = new Map<string, Doc>();
  private readonly featureIds = new Map<string, number>();
  /** Feature name by id, and ids whose feature no stored pair has any more (reused, so the vocabulary stays bounded). */
  private readonly names: string[] = [];
  private readonly free: number[] = [];
  private df: Int32Array = new Int32Array(1024);
  private readonly postings = new Map<number, Set<string>>();
  /** Pair id by group + normalised question + reply: the same answer to the same question is kept once. */
  private readonly byKey = new Map<string, string>();
  /** Per group + normalised reply: how many stored pairs each customer has with it (`STOCK_REPLY_MIN_CUSTOMERS`). */
  private readonly uses = new Map<string, Map<string, number>>();

  /**
   * @param max pairs kept (the newest)
   * @param minCustomers a reply is returned by `search` once sent to this many different customers
   *   (default `STOCK_REPLY_MIN_CUSTOMERS`; 1 only where every reply is known to be generic, e.g. tests of the ranking)
   */
  constructor(
    private readonly max = PAST_REPLIES_MAX,
    private readonly minCustomers = STOCK_REPLY_MIN_CUSTOMERS,
  ) {}

  get size(): number {
    return this.docs.size;
  }

  /**
   * Adds a pair (the newest); the oldest pair goes when the memory is full. A pair with the same group,
   * question and reply as a stored one replaces it (so a stock answer is stored once, as its newest use).
   * @returns the ids of pairs dropped to make room or replaced
   */
  add(reply: PastReply): string[] {
    const dropped: string[] = [];
    const key = `${reply.skillGroup}\u0000${normalizeWhitespace(reply.question).toLowerCase()}\u0000${normalizeWhitespace(reply.reply)}`;
    const same = this.byKey.get(key);
    if (same !== undefined && same !== reply.id) {
      this.remove(same);
      dropped.push(same);
    }
    if (this.docs.has(reply.id)) this.remove(reply.id);
    const bag = extractFeatures(indexableText(reply.question), OPTIONS);
    const features: number[] = [];
    const weights: number[] = [];
    for (const [name, tf] of bag) {
      const group = GROUP_WEIGHT[name[0]!];
      if (!group) continue;
      features.push(this.intern(name));
      weights.push((1 + Math.log(tf)) * group);
    }
    const doc: Doc = { reply, features: Int32Array.from(features), weights: Float32Array.from(weights), key };
    this.docs.set(reply.id, doc);
    this.byKey.set(key, reply.id);
    this.countUse(reply, +1);
    for (const f of doc.features) {
      this.df[f]!++;
      let list = this.postings.get(f);
      if (!list) this.postings.set(f, (list = new Set()));
      list.add(reply.id);
    }
    while (this.docs.size > this.max) {
      const oldest = this.docs.keys().next().value!;
      this.remove(oldest);
      dropped.push(oldest);
    }
    return dropped;
  }

  /** Removes one pair; false when it is not stored. */
  remove(id: string): boolean {
    const doc = this.docs.get(id);
    if (!doc) return false;
    this.docs.delete(id);
    if (this.byKey.get(doc.key) === id) this.byKey.delete(doc.key);
    this.countUse(doc.reply, -1);
    for (const f of doc.features) {
      const list = this.postings.get(f);
      list?.delete(id);
      if (list && list.size === 0) this.postings.delete(f);
      if (--this.df[f]! === 0) {
        this.featureIds.delete(this.names[f]!);
        this.free.push(f);
      }
    }
    return true;
  }

  /** Removes every pair said to one customer (erasure); returns their ids. */
  forgetCustomer(customerId: string): string[] {
    const ids = [...this.docs.values()].filter((d) => d.reply.customerId === customerId).map((d) => d.reply.id);
    for (const id of ids) this.remove(id);
    return ids;
  }

  /**
   * The pairs of `skillGroup` whose question is most similar to `question`, best first, at most `k`,
   * each at least `minSimilarity` (cosine of TF-IDF vectors, idf over the whole memory, 0..1).
   * Replies that read the same (white space aside) are returned once, the most similar.
   */
  search(question: string, skillGroup: string, k = 3, minSimilarity = 0): PastReplyHit[] {
    const n = this.docs.size;
    if (n === 0 || k <= 0) return [];
    const idf = (f: number) => Math.log((1 + n) / (1 + this.df[f]!)) + 1;
    const query = new Map<number, number>();
    // Words no stored question has still count in the query's length (at the highest idf): a question
    // sharing one word of ten with a stored one is not similar to it.
    let qNorm = 0;
    const unseenIdf = Math.log(1 + n) + 1;
    for (const [name, tf] of extractFeatures(indexableText(question), OPTIONS)) {
      const group = GROUP_WEIGHT[name[0]!];
      if (!group) continue;
      const f = this.featureIds.get(name);
      const weight = (1 + Math.log(tf)) * group * (f === undefined ? unseenIdf : idf(f));
      qNorm += weight * weight;
      if (f !== undefined) query.set(f, weight);
    }
    if (query.size === 0) return [];
    qNorm = Math.sqrt(qNorm);

    const common = Math.max(50, COMMON_SHARE * n);
    const candidates = new Set<string>();
    const nominate = (onlyRare: boolean) => {
      for (const f of query.keys()) {
        if (onlyRare && this.df[f]! > common) continue;
        for (const id of this.postings.get(f) ?? []) candidates.add(id);
      }
    };
    nominate(true);
    if (candidates.size === 0) nominate(false);

    const hits: PastReplyHit[] = [];
    for (const id of candidates) {
      const doc = this.docs.get(id)!;
      if (doc.reply.skillGroup !== skillGroup) continue;
      let dot = 0;
      let dNorm = 0;
      for (let i = 0; i < doc.features.length; i++) {
        const f = doc.features[i]!;
        const w = doc.weights[i]! * idf(f);
        dNorm += w * w;
        const q = query.get(f);
        if (q !== undefined) dot += q * w;
      }
      const similarity = dNorm > 0 ? Math.min(1, dot / (qNorm * Math.sqrt(dNorm))) : 0;
      if (similarity >= minSimilarity && similarity > 0) hits.push({ reply: doc.reply, similarity });
    }
    hits.sort((a, b) => b.similarity - a.similarity || (a.reply.at < b.reply.at ? 1 : -1));
    const seen = new Set<string>();
    const out: PastReplyHit[] = [];
    for (const hit of hits) {
      const text = normalizeWhitespace(hit.reply.reply);
      if (seen.has(text) || !this.isStock(hit.reply)) continue;
      seen.add(text);
      out.push(hit);
      if (out.length === k) break;
    }
    return out;
  }

  /** Whether agents sent this reply's text to at least `minCustomers` different customers of its group. */
  isStock(reply: Pick<PastReply, 'skillGroup' | 'reply'>): boolean {
    return (this.uses.get(useKey(reply))?.size ?? 0) >= this.minCustomers;
  }

  private countUse(reply: PastReply, delta: 1 | -1): void {
    const key = useKey(reply);
    let byCustomer = this.uses.get(key);
    if (!byCustomer) this.uses.set(key, (byCustomer = new Map()));
    const n = (byCustomer.get(reply.customerId) ?? 0) + delta;
    if (n > 0) byCustomer.set(reply.customerId, n);
    else byCustomer.delete(reply.customerId);
    if (byCustomer.size === 0) this.uses.delete(key);
  }

  private intern(name: string): number {
    let id = this.featureIds.get(name);
    if (id === undefined) {
      id = this.free.pop() ?? this.names.length;
      this.featureIds.set(name, id);
      this.names[id] = name;
      if (id >= this.df.length) {
        const grown = new Int32Array(this.df.length * 2);
        grown.set(this.df);
        this.df = grown;
      }
    }
    return id;
  }
}

const useKey = (reply: Pick<PastReply, 'skillGroup' | 'reply'>) => `${reply.skillGroup}\u0000${normalizeWhitespace(reply.reply)}`;
