// Bundles the provider (npm run bundle, after tsc): src/main.ts into dist/src/main.js and the chunks it loads on
// demand (the AWS SDK and @kubernetes/client-node, dist/src/chunks), and the jmesPath worker's entry into
// dist/src/files/jmespathWorker.js. The image ships these files alone. What each setting saves is measured in the
// performance docs (docs/performance.md).
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { URL, fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/**
 * Node 22 and later expose undici's WebSocket, CloseEvent and MessageEvent as lazy getters of the `http` module. An
 * ES module import of `http` builds the module's namespace, which reads every getter, and so loads undici: ~14 MB
 * resident in a process that never calls fetch (a `require` reads only what it uses). The provider's sources and its
 * dependencies' ES builds (the AWS SDK, client-node) import `http`, so those imports get a module that requires it
 * instead and re-exports its plain properties. A dependency that imports a name left out here fails this build.
 */
function httpThroughRequire() {
  const http = require('node:http');
  const names = Object.entries(Object.getOwnPropertyDescriptors(http))
    .filter(([, descriptor]) => 'value' in descriptor)
    .map(([name]) => name);
  const contents = [
    'const http = require("node:http");',
    'export default http;',
    `export const { ${names.join(', ')} } = http;`,
  ].join('\n');
  return {
    name: 'http-through-require',
    setup(build) {
      build.onResolve({ filter: /^(node:)?http$/ }, (args) =>
        args.kind === 'import-statement' || args.kind === 'dynamic-import'
          ? { path: 'http', namespace: 'http-through-require' }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'http-through-require' }, () => ({ contents, loader: 'js' }));
    },
  };
}

/**
 * client-node's generated model classes (~700 files, 417 KB) have no effect beyond their own class, but each sets its
 * static attribute map by assignment, which the bundler must assume has one. They reach the bundle through
 * `export *` in gen/index.js, which KubeConfig imports for two other names; the provider uses none of them (it parses
 * the apiserver's JSON itself, src/k8s/coreApi.ts), so saying they are pure lets the bundler leave them out.
 */
function clientNodeModelsArePure() {
  const models = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/]models[\\/]/;
  return {
    name: 'client-node-models-are-pure',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.resolvingModel || !(models.test(args.importer) || /models[\\/]all\.js$/.test(args.path))) {
          return undefined;
        }
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { resolvingModel: true },
        });
        return models.test(resolved.path) ? { ...resolved, sideEffects: false } : resolved;
      });
    },
  };
}

rmSync(`${root}dist/src/chunks`, { recursive: true, force: true });
await esbuild.build({
  absWorkingDir: root,
  // The jmesPath worker (src/files/jmespathWorker.ts) is an entry of its own: a worker thread loads a file. Both keep
  // their place below src/, so main.ts finds the worker beside it as in the sources.
  entryPoints: ['src/main.ts', 'src/files/jmespathWorker.ts'],
  outbase: 'src',
  outdir: 'dist/src',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The packages' ES builds, so that the AWS SDK is tree-shaken.
  mainFields: ['module', 'main'],
  // Whitespace and syntax only: names stay readable in stack traces. V8 keeps every script's source in memory.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  allowOverwrite: true,
  logLevel: 'warning',
  alias: {
    // node-fetch 2 (client-node's HTTP client) falls back to this package's URL only where Node's own is missing.
    'whatwg-url': './src/k8s/nodeFetchUrl.ts',
  },
  plugins: [httpThroughRequire(), clientNodeModelsArePure()],
  // The CommonJS dependencies inside an ES module bundle still call require and read __filename and __dirname.
  banner: {
    js: "import{createRequire as __cr}from'node:module';import{fileURLToPath as __fp}from'node:url';const require=__cr(import.meta.url),__filename=__fp(import.meta.url),__dirname=__filename.slice(0,__filename.lastIndexOf('/'));",
  },
});
