import { defineConfig } from 'vitest/config';

// `npm run test:scaleout` (`--mode scaleout`) or HUILIU_TEST_LANE=scaleout: the scale-out lane
// (docs/testing.md) — one Redis Cluster and one SoftHSM2 token for the run, every server on them.
export default defineConfig(({ mode }) => {
  if (mode === 'scaleout') process.env['HUILIU_TEST_LANE'] = 'scaleout';
  const scaleout = process.env['HUILIU_TEST_LANE'] === 'scaleout';
  return {
    test: {
      include: ['common/**/*.test.ts', 'server/**/*.test.ts', 'app/**/*.test.ts', 'app/**/*.test.tsx'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 60_000,
      // The e2e and integration suites start servers and browsers: keep files in separate forks.
      pool: 'forks',
      globalSetup: scaleout ? ['server/test/support/scaleout-setup.ts'] : [],
      reporters: process.env.CI ? ['default', 'json'] : ['default'],
      outputFile: { json: 'test-output/vitest.json' },
    },
  };
});
