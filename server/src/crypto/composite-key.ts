import { HuiliuError } from '../../../common/errors/codes';

/**
 * Joins the parts of a key (a blind index input, an identity, a room or limiter key) so that no two
 * different part lists give the same key (issue 6, B7). Every part but the last must not contain
 * `separator`: then the key splits back into exactly its parts at the first `parts.length - 1`
 * separators, which makes the join injective for a fixed arity. The last part may be any text, so
 * keys written before this check (plain joins whose free text came last) keep their value.
 *
 * @param separator one character that the fixed parts (labels, channel codes, ids) never contain
 * @param parts at least one part; the free-form one (customer data) goes last
 * @throws HuiliuError INTERNAL when a non-last part contains the separator (a programming error,
 *   or input that should have been validated earlier)
 */
export function joinKey(separator: string, parts: readonly string[]): string {
  if (separator.length !== 1) throw new HuiliuError('INTERNAL', 'joinKey: the separator is one character');
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i]!.includes(separator)) {
      throw new HuiliuError('INTERNAL', `joinKey: part ${i} contains the separator; only the last part may`);
    }
  }
  return parts.join(separator);
}
