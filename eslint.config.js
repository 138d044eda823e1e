import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The folders of src/ by rank: a folder may import its own rank and lower ranks, never a higher one. The Mount
 * (mount) uses the edges (aws, auth, k8s, config, files, and server, the gRPC edge it answers through); only the
 * provider's wiring and the entry point use the Mount.
 */
const LAYERS = [
  ['errors.ts', 'abortable.ts', 'visibleText.ts', 'shippedFile.ts'],
  ['config'],
  ['files', 'k8s', 'observability', 'server'],
  ['aws'],
  ['auth'],
  ['mount'],
  ['provider.ts', 'main.ts', 'cli'],
];

/**
 * State lives in objects the composition root builds (src/mount/core.ts, src/provider.ts), never in a module: no
 * top-level `let`, and no top-level collection that can change (a constant lookup set is typed ReadonlySet).
 */
const TOP_LEVEL = ':matches(Program, Program > ExportNamedDeclaration)';
const moduleState = [
  {
    selector: `${TOP_LEVEL} > VariableDeclaration[kind=/^(let|var)$/]`,
    message: 'No module-level mutable state: keep it in an object built by the composition root (src/mount/core.ts).',
  },
  {
    selector: `${TOP_LEVEL} > VariableDeclaration > VariableDeclarator > NewExpression[callee.name=/^(Map|WeakMap|WeakSet|WeakRef|LRUCache)$/]`,
    message: 'No module-level cache or map: keep it in an object built by the composition root (src/mount/core.ts).',
  },
  {
    selector: `${TOP_LEVEL} > VariableDeclaration > VariableDeclarator[id.typeAnnotation.typeAnnotation.typeName.name!='ReadonlySet'] > NewExpression[callee.name='Set']`,
    message: 'A module-level Set is a constant: type it ReadonlySet<…>, or keep it in an object built by the composition root.',
  },
];

const layerZones = LAYERS.flatMap((layer, rank) =>
  LAYERS.slice(rank + 1).flat().map((higher) => ({
    target: layer.map((name) => `./src/${name}`),
    from: `./src/${higher}`,
    message: `src/${layer.join(', src/')} rank below src/${higher}: move the shared part down instead.`,
  })),
);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Sources import each other as `./x.js` (ESM output names); the resolver reads the `.ts` beside it.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      'no-restricted-syntax': ['error', ...moduleState],
    },
  },
  {
    // A gRPC status is chosen in one place, the error table of src/errors.ts; only the server speaks gRPC.
    files: ['src/**/*.ts'],
    ignores: ['src/errors.ts', 'src/server/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@grpc/grpc-js', message: 'make errors with new ProviderError(code, …): src/errors.ts gives each code its status' }] },
      ],
    },
  },
);
