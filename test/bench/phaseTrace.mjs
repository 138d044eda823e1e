// Where a storm's time goes, from inside our provider: preloaded into it by the bench,
//   npm run bench -- --only s2 --node-options=--import=./test/bench/phaseTrace.mjs
// it notes when each Mount arrives and when its trailers leave (HTTP/2), and when each outgoing HTTP request (AWS
// through the proxy, the apiserver) starts and ends. Once every Mount seen has closed it writes them to
// $PHASE_TRACE_FILE (default /tmp/phase-trace-<pid>.json); `node test/bench/phaseTrace.mjs FILE` prints one line per
// storm and its calls, in ms from the storm's first Mount. Only method names and paths are kept, never a body.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { URL } from 'node:url';

if (process.argv[1] === new URL(import.meta.url).pathname) {
  printStorms(JSON.parse(readFileSync(process.argv[2], 'utf8')));
} else {
  trace(process.env.PHASE_TRACE_FILE ?? `/tmp/phase-trace-${process.pid}.json`);
}

function trace(file) {
  const mounts = [];
  const calls = [];
  const createServer = http2.createServer;
  // grpc-js looks createServer up when it binds, after this module has run.
  http2.createServer = function (...args) {
    const server = createServer.apply(this, args);
    server.on('stream', (stream, headers) => {
      if (!String(headers[':path']).endsWith('/Mount')) return;
      const mount = { arrived: performance.now() };
      mounts.push(mount);
      stream.once('wantTrailers', () => (mount.trailers = performance.now()));
      stream.once('close', () => {
        mount.closed = performance.now();
        if (mounts.every((m) => m.closed !== undefined)) writeFileSync(file, JSON.stringify({ mounts, calls }));
      });
    });
    return server;
  };
  // The bundle reads http's functions when it loads (scripts/bundle.mjs), after this module has run.
  for (const [scheme, module] of [['http', http], ['https', https]]) {
    const request = module.request;
    module.request = function (...args) {
      const req = request.apply(this, args);
      const options = typeof args[0] === 'object' && !(args[0] instanceof URL) ? args[0] : (args[1] ?? {});
      const target = options.headers?.['x-amz-target'] ?? options.headers?.['X-Amz-Target'];
      const call = { what: target ?? `${scheme} ${options.path ?? new URL(String(args[0])).pathname}`, started: performance.now() };
      calls.push(call);
      req.once('response', (res) => res.once('end', () => (call.ended = performance.now())));
      return req;
    };
  }
}

function printStorms({ mounts, calls }) {
  mounts.sort((a, b) => a.arrived - b.arrived);
  const storms = [];
  for (const mount of mounts) {
    const storm = storms.at(-1);
    if (storm && mount.arrived - storm.at(-1).arrived < 200) storm.push(mount);
    else storms.push([mount]);
  }
  const ms = (t) => t.toFixed(1).padStart(6);
  for (const storm of storms) {
    const t0 = storm[0].arrived;
    const last = Math.max(...storm.map((m) => m.closed));
    const of = (key, pick) => ms(pick(...storm.map((m) => m[key] ?? m.closed)) - t0);
    process.stdout.write(
      `${storm.length} Mounts: last arrived ${of('arrived', Math.max)}, first trailers ${of('trailers', Math.min)}, ` +
        `last trailers ${of('trailers', Math.max)}, last closed ${ms(last - t0)}\n`,
    );
    for (const call of calls.filter((c) => c.started >= t0 - 5 && c.started <= last)) {
      process.stdout.write(`  ${call.what.padEnd(40)} ${ms(call.started - t0)} → ${call.ended === undefined ? '     ?' : ms(call.ended - t0)}\n`);
    }
  }
}
