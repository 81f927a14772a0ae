import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** The largest push body the route reads (bytes). WeChat's pushes are well under 4 KiB. */
export const MAX_PUSH_BYTES = 64 * 1024;

/** One parsed element: text, or child elements (repeated children become arrays). */
export type XmlValue = string | XmlNode | XmlValue[];
export interface XmlNode {
  [name: string]: XmlValue;
}

/** Why a body is not a WeChat push document; the route answers WECHAT_XML_MALFORMED with it. */
export class WechatXmlError extends Error {
  constructor(readonly reason: 'doctype' | 'malformed' | 'root' | 'too-deep') {
    super(`not a WeChat push document (${reason})`);
    this.name = 'WechatXmlError';
  }
}

const parser = new XMLParser({
  ignoreAttributes: true,
  // Values stay strings: MsgId (up to 19 digits) would lose precision as a number.
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Only the five predefined and numeric references: DOCTYPE (and so any declared entity) is refused below.
  processEntities: true,
  htmlEntities: false,
});

/** Deeper than this is no WeChat push (the deepest sample nests 4 levels). */
const MAX_DEPTH = 8;

/**
 * Parses one push body (`<xml>…</xml>`) into its root element's children, as strings and nested
 * nodes. Refuses any DOCTYPE or ENTITY declaration outright (XXE, entity expansion: WeChat never
 * sends one), malformed XML, a root other than `xml`, and nesting deeper than 8.
 * @throws WechatXmlError
 */
export function parsePushXml(body: string): XmlNode {
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw new WechatXmlError('doctype');
  if (XMLValidator.validate(body) !== true) throw new WechatXmlError('malformed');
  let doc: unknown;
  try {
    doc = parser.parse(body);
  } catch {
    throw new WechatXmlError('malformed');
  }
  const root = (doc as Record<string, unknown> | null)?.xml;
  if (root === '') return {};
  if (!isNode(root)) throw new WechatXmlError('root');
  if (depth(root) > MAX_DEPTH) throw new WechatXmlError('too-deep');
  return root;
}

export function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function depth(value: XmlValue, level = 0): number {
  if (typeof value === 'string') return level;
  const children = Array.isArray(value) ? value : Object.values(value);
  let max = level;
  for (const child of children) max = Math.max(max, depth(child, level + 1));
  return max;
}

/** A child element's text, or undefined when it is missing or not text (a repeated or nested element). */
export function textOfNode(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[name];
  return typeof value === 'string' ? value : undefined;
}
