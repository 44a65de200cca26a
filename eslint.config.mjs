// One linter for the whole tree; typed rules catch promises nobody awaits (the bug class that
// loses batch results silently).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.e2e-tools/**',
      'test-results/**',
      'sample-workspace/**',
      'sample-run/**',
      'media/dist/**',
      'third_party/**',
      'data/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it/test return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  // core/ is the editor-independent half that the CLI, the workers and the tests run without VS Code
  // or an LSP connection: no `vscode`, no language server/client, no server wiring. Types-only
  // imports from the protocol and text-document packages stay allowed (they bring no connection).
  {
    files: ['server/src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'vscode',
              message: 'core/ runs without VS Code (CLI, workers, tests): pass what it needs in from the server or client.',
            },
            {
              name: 'vscode-languageserver',
              message: 'core/ knows no LSP connection: the server wiring (server.ts, features/) adapts core results.',
            },
            {
              name: 'vscode-languageserver-protocol',
              allowTypeImports: true,
              message: 'core/ may name protocol types (import type) but not use the protocol at run time.',
            },
            {
              name: 'vscode-languageserver-textdocument',
              allowTypeImports: true,
              message: 'core/ works on strings and paths; only `import type` from the text-document package.',
            },
          ],
          patterns: [
            {
              group: ['vscode-languageserver/*', 'vscode-languageclient', 'vscode-languageclient/*', 'vscode-jsonrpc', 'vscode-jsonrpc/*'],
              message: 'core/ knows no LSP connection or client: the server wiring adapts core results.',
            },
            {
              group: ['**/server', '**/context', '**/main', '**/cli', '**/cli/**', '**/features/**', '**/client/**', '**/protocol/lsp/**'],
              message:
                'core/ must not import the server wiring (server.ts, context.ts, main.ts, features/, cli/, LSP messages) or the client: they import core, not the other way round.',
            },
          ],
        },
      ],
    },
  },
  // Plain JavaScript (scripts, the CLI shim, test runners, this file): no tsconfig covers it, so no
  // type-aware rules; ESLint's own recommended rules instead (no-undef matters where no compiler looks).
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { ...globals.node } },
    rules: {
      ...js.configs.recommended.rules,
      ...tseslint.configs.disableTypeChecked.rules,
      'no-unused-vars': 'off', // @typescript-eslint/no-unused-vars (above, with its `_` exemption) reports these already
    },
  },
  { files: ['**/*.js', '**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
);
