import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { REPO_ROOT } from '../runtime/paths';
import type { TextClassifierState } from './classifier';

/**
 * The models the product ships (issue 9): the emotion classifier and the hand-over request detector,
 * trained by `npm run train:models` (server/eval/train-models.ts) on data with a declared licence only
 * and saved as one gzipped JSON file in the repository. Typed arrays are stored as base64.
 */

export const SHIPPED_MODELS_FILE = join(REPO_ROOT, 'server', 'src', 'ai', 'models', 'core-models.json.gz');

export interface ShippedModels {
  /** What it was trained on and when, with each source's licence. */
  provenance: { trainedAt: string; sources: { name: string; licence: string; rows: number }[] };
  emotion: TextClassifierState;
  human: TextClassifierState;
}

const TYPED = '__f32';
const TYPED_I = '__i32';

function encode(_key: string, value: unknown): unknown {
  if (value instanceof Float32Array) return { [TYPED]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Int32Array) return { [TYPED_I]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  return value;
}

function decode(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v[TYPED] === 'string') {
      const b = Buffer.from(v[TYPED], 'base64');
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
    if (typeof v[TYPED_I] === 'string') {
      const b = Buffer.from(v[TYPED_I], 'base64');
      return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
  }
  return value;
}

export function saveShippedModels(models: ShippedModels, file = SHIPPED_MODELS_FILE): void {
  writeFileSync(file, gzipSync(JSON.stringify(models, encode), { level: 9 }));
}

/** The shipped models, or null when the file is missing (the core then trains from the seed data). */
export function loadShippedModels(file = SHIPPED_MODELS_FILE): ShippedModels | null {
  if (!existsSync(file)) return null;
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'), decode) as ShippedModels;
}
