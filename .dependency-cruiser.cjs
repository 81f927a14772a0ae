/**
 * Layering rules (VS Code style): common/ runs everywhere, the renderer is a web page, the server and
 * the Electron main process are Node. `npm run deps` fails the build on any violation.
 */
module.exports = {
  forbidden: [
    {
      name: 'common-is-pure',
      comment: 'common/ is shared by every runtime: no Node built-ins, no Electron, no other runtime folder.',
      severity: 'error',
      from: { path: '^common/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(server|app)/|^node:|^(fs|path|crypto|os|net|http|https|child_process|electron)$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'common-no-runtime-deps',
      comment: 'common/ may use only zod at run time.',
      severity: 'error',
      from: { path: '^common/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['npm'], pathNot: '^node_modules/zod/' },
    },
    {
      name: 'renderer-is-a-web-page',
      comment: 'The renderer reaches privileged code only through the DesktopBridge: no Node, no Electron.',
      severity: 'error',
      from: { path: '^app/renderer/' },
      to: {
        path: '^node:|^(fs|path|crypto|os|net|http|https|child_process|electron)$|^server/|^app/main/|node_modules/electron/',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'renderer-no-core-modules',
      severity: 'error',
      from: { path: '^app/renderer/', pathNot: '(\\.test\\.tsx?|vite\\.config\\.ts)$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'widget-no-core-modules',
      comment: "The customer widget runs in the visitor's browser: no Node built-ins (its Vite config runs in Node).",
      severity: 'error',
      from: { path: '^server/src/gateway/web/widget/', pathNot: 'vite\\.config\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'widget-only-common',
      comment: 'The widget is shipped to browsers: it may use common/, never server code outside its own folder.',
      severity: 'error',
      from: { path: '^server/src/gateway/web/widget/', pathNot: 'vite\\.config\\.ts$' },
      to: { path: '^server/', pathNot: '^server/src/gateway/web/widget/' },
    },
    {
      name: 'server-not-into-app',
      comment: 'The companion server does not depend on the desktop app.',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^app/' },
    },
    {
      name: 'main-not-into-renderer-or-server',
      comment: 'Electron main talks to the server over HTTPS, not by import (tests may borrow helpers).',
      severity: 'error',
      from: { path: '^app/main/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(server|app/renderer)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/|node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
  },
};
