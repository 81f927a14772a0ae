import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WIDGET = 'server/src/gateway/web/widget';

/** Runs the repository's own `.dependency-cruiser.cjs` rules over `paths`, relative to `baseDir`. */
async function violations(baseDir: string, paths: string[]): Promise<{ rule: string; from: string; to: string }[]> {
  const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
  const { output } = await cruise(
    paths,
    { ...options, baseDir, validate: true, outputType: 'json' },
    {
      extensions: ['.ts', '.js'],
    },
  );
  const result = (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('the widget dependency rules', () => {
  // The offending files live in a copy of the folder layout, so a concurrent tsc, eslint or widget
  // build on the real tree never sees them.
  const fixture = mkdtempSync(join(tmpdir(), 'huiliu-widget-deps-'));
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));
  const put = (path: string, text: string): void => {
    mkdirSync(dirname(join(fixture, path)), { recursive: true });
    writeFileSync(join(fixture, path), text);
  };

  it('fails a widget file that imports a Node built-in or server code, and lets common/ and its own folder through', async () => {
    put('common/text/text.ts', 'export const visible = (s: string): boolean => s.trim().length > 0;\n');
    put('server/src/gateway/web/plugin.ts', 'export const plugin = 1;\n');
    put(`${WIDGET}/helper.ts`, 'export const helper = 2;\n');
    put(`${WIDGET}/reads-disk.ts`, "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n");
    put(`${WIDGET}/reads-disk-bare.ts`, "import { readFileSync } from 'fs';\nexport const read = readFileSync;\n");
    put(`${WIDGET}/uses-server.ts`, "import { plugin } from '../plugin';\nexport const p = plugin;\n");
    put(
      `${WIDGET}/fine.ts`,
      "import { visible } from '../../../../../common/text/text';\nimport { helper } from './helper';\nexport const ok = visible('a') && helper;\n",
    );
    // The build config runs in Node, not in the browser; dependency-cruiser reports 'node:fs' as 'fs'.
    put(`${WIDGET}/vite.config.ts`, "import { fileURLToPath } from 'node:url';\nexport const root = fileURLToPath('file:///');\n");

    const found = await violations(fixture, [WIDGET]);
    expect(found.sort((a, b) => a.from.localeCompare(b.from))).toEqual([
      { rule: 'widget-no-core-modules', from: `${WIDGET}/reads-disk-bare.ts`, to: 'fs' },
      { rule: 'widget-no-core-modules', from: `${WIDGET}/reads-disk.ts`, to: 'fs' },
      { rule: 'widget-only-common', from: `${WIDGET}/uses-server.ts`, to: 'server/src/gateway/web/plugin.ts' },
    ]);
  });

  it('finds no violation in the real widget', async () => {
    expect(await violations(ROOT, [WIDGET])).toEqual([]);
  });
});
