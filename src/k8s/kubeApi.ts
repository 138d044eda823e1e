/**
 * The provider's whole use of the Kubernetes API is three `get`s (a ServiceAccount, a Pod, a Node). This is a
 * client for exactly that: a kubeconfig or in-cluster connection, and GET of one JSON object over one
 * keep-alive agent. It replaces @kubernetes/client-node, whose load alone took ~0.5 s and ~55 MB of the
 * provider's memory (its generated models for every API group, fetch polyfills, websocket and proxy agents).
 *
 * Connection, in @kubernetes/client-node's order: the given kubeconfig file; else $KUBECONFIG (its first
 * file); else ~/.kube/config; else the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT, its CA and
 * token). Credentials: a bearer token, a token file (re-read every minute, as client-go does, so a rotated
 * projected token is picked up), a client certificate and key, basic auth, or an exec credential plugin.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIPv6 } from 'node:net';
import { createSecureContext } from 'node:tls';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const SERVICEACCOUNT_ROOT = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_FILE_REFRESH_MS = 60_000;

/** A non-2xx answer of the API server. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    /** The Status reason (NotFound, Forbidden, …) when the body was a Status. */
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** Where the API server is and how to authenticate to it. */
export interface KubeConnection {
  server: URL;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify: boolean;
  /** The Authorization header value, or undefined for none (a client certificate alone). */
  authorization(): Promise<string | undefined>;
  /** Where it came from, for messages. */
  source: string;
}

type Yaml = Record<string, unknown>;

function asMap(value: unknown): Yaml {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Yaml) : {};
}

function str(map: Yaml, key: string): string | undefined {
  const value = map[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function named(list: unknown, name: string | undefined, what: string, file: string): Yaml {
  const found = (Array.isArray(list) ? list : []).map(asMap).find((entry) => entry.name === name);
  if (!found) throw new Error(`kubeconfig ${file}: no ${what} named "${name ?? ''}"`);
  return found;
}

/** A file's bytes or base64 data, as kubeconfig gives certificates and keys (paths relative to the file). */
function fileOrData(map: Yaml, fileKey: string, dataKey: string, baseDir: string): Buffer | undefined {
  const data = str(map, dataKey);
  if (data !== undefined) return Buffer.from(data, 'base64');
  const file = str(map, fileKey);
  return file === undefined ? undefined : readFileSync(isAbsolute(file) ? file : join(baseDir, file));
}

/** A token file, re-read when older than a minute: projected service account tokens rotate. */
function tokenFileReader(path: string): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (Date.now() - readAt > TOKEN_FILE_REFRESH_MS) {
      token = readFileSync(path, 'utf8').trim();
      readAt = Date.now();
    }
    return token;
  };
}

/** client.authentication.k8s.io ExecCredential: run the plugin, reuse its token until it expires. */
function execCredential(exec: Yaml, baseDir: string): () => Promise<string> {
  const command = str(exec, 'command');
  if (command === undefined) throw new Error('kubeconfig exec credential plugin has no command');
  const args = (Array.isArray(exec.args) ? exec.args : []).map(String);
  const env = Object.fromEntries(
    (Array.isArray(exec.env) ? exec.env : []).map(asMap).map((e) => [String(e.name), String(e.value ?? '')]),
  );
  const apiVersion = str(exec, 'apiVersion') ?? 'client.authentication.k8s.io/v1';
  let cached: { token: string; expires: number } | undefined;
  let inFlight: Promise<string> | undefined;
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const info = JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
      const file = command.includes('/') && !isAbsolute(command) ? join(baseDir, command) : command;
      execFile(file, args, { env: { ...process.env, ...env, KUBERNETES_EXEC_INFO: info }, timeout: 30_000 }, (err, out) => {
        if (err) return reject(new Error(`kubeconfig exec credential plugin ${command} failed: ${err.message}`));
        try {
          const status = asMap(asMap(JSON.parse(out)).status);
          const token = str(status, 'token');
          if (token === undefined) throw new Error('its ExecCredential has no status.token');
          const expiry = str(status, 'expirationTimestamp');
          cached = { token, expires: expiry === undefined ? Infinity : Date.parse(expiry) - 10_000 };
          resolve(token);
        } catch (parseErr) {
          reject(new Error(`kubeconfig exec credential plugin ${command}: ${(parseErr as Error).message}`));
        }
      });
    });
  return async () => {
    if (cached && cached.expires > Date.now()) return cached.token;
    inFlight ??= run().finally(() => (inFlight = undefined));
    return inFlight;
  };
}

function fromKubeconfigFile(file: string): KubeConnection {
  const baseDir = dirname(file);
  const config = asMap(parseYaml(readFileSync(file, 'utf8')));
  const context = asMap(named(config.contexts, str(config, 'current-context'), 'context', file).context);
  const cluster = asMap(named(config.clusters, str(context, 'cluster'), 'cluster', file).cluster);
  const user = asMap(named(config.users, str(context, 'user'), 'user', file).user);
  const server = str(cluster, 'server');
  if (server === undefined) throw new Error(`kubeconfig ${file}: its cluster has no server`);
  let authorization: () => Promise<string | undefined>;
  const token = str(user, 'token');
  const tokenFile = str(user, 'tokenFile');
  const exec = user.exec === undefined ? undefined : asMap(user.exec);
  if (token !== undefined) authorization = async () => `Bearer ${token}`;
  else if (tokenFile !== undefined) {
    const read = tokenFileReader(isAbsolute(tokenFile) ? tokenFile : join(baseDir, tokenFile));
    authorization = async () => `Bearer ${read()}`;
  } else if (exec !== undefined) {
    const get = execCredential(exec, baseDir);
    authorization = async () => `Bearer ${await get()}`;
  } else if (str(user, 'username') !== undefined) {
    const basic = Buffer.from(`${str(user, 'username')}:${str(user, 'password') ?? ''}`).toString('base64');
    authorization = async () => `Basic ${basic}`;
  } else if (user['auth-provider'] !== undefined) {
    throw new Error(`kubeconfig ${file}: auth-provider plugins are not supported; use a token, a client certificate or exec`);
  } else authorization = async () => undefined;
  return {
    server: new URL(server),
    ca: fileOrData(cluster, 'certificate-authority', 'certificate-authority-data', baseDir),
    cert: fileOrData(user, 'client-certificate', 'client-certificate-data', baseDir),
    key: fileOrData(user, 'client-key', 'client-key-data', baseDir),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    authorization,
    source: `kubeconfig ${file}`,
  };
}

function inCluster(): KubeConnection {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const read = tokenFileReader(join(SERVICEACCOUNT_ROOT, 'token'));
  const caFile = join(SERVICEACCOUNT_ROOT, 'ca.crt');
  return {
    server: new URL(`${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`),
    ca: existsSync(caFile) ? readFileSync(caFile) : undefined,
    insecureSkipTlsVerify: false,
    authorization: async () => `Bearer ${read()}`,
    source: 'in-cluster service account',
  };
}

/** The connection of `--kubeconfig`, else the default places, as described at the top of this file. */
export function loadKubeConnection(kubeconfigPath?: string, env: NodeJS.ProcessEnv = process.env): KubeConnection {
  if (kubeconfigPath) return fromKubeconfigFile(kubeconfigPath);
  const fromEnv = env.KUBECONFIG?.split(':').find((f) => f !== '');
  if (fromEnv) return fromKubeconfigFile(fromEnv);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home) && statSync(home).isFile()) return fromKubeconfigFile(home);
  if (existsSync(join(SERVICEACCOUNT_ROOT, 'token'))) return inCluster();
  throw new Error(
    'no Kubernetes connection: not in a cluster (no service account token), no --kubeconfig, no $KUBECONFIG and no ~/.kube/config',
  );
}

export interface KubeApiOptions {
  /** Limit of one request, connect to last byte (ms). Default 10 s. */
  timeoutMs?: number;
  userAgent?: string;
  /** Keep-alive sockets to the API server at most. Default 16. */
  maxSockets?: number;
}

/** GETs of single objects from one API server over one keep-alive agent. */
export class KubeApi {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(
    private readonly connection: KubeConnection,
    options: KubeApiOptions = {},
  ) {
    const maxSockets = options.maxSockets ?? 16;
    this.agent =
      connection.server.protocol === 'http:'
        ? new HttpAgent({ keepAlive: true, maxSockets })
        : new HttpsAgent({
            keepAlive: true,
            maxSockets,
            // One TLS context for every connection: built per connection it costs a few ms of CPU each.
            secureContext: createSecureContext({ ca: connection.ca, cert: connection.cert, key: connection.key }),
            rejectUnauthorized: !connection.insecureSkipTlsVerify,
          });
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.userAgent = options.userAgent ?? 'aws-secrets-csi-provider';
  }

  /** GET `path` (e.g. /api/v1/namespaces/ns/serviceaccounts/name) as JSON; a non-2xx answer is a KubeApiError. */
  async get<T>(path: string): Promise<T> {
    const authorization = await this.connection.authorization();
    const url = new URL(path, this.connection.server);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = send(
        url,
        {
          method: 'GET',
          agent: this.agent,
          headers: {
            accept: 'application/json',
            'user-agent': this.userAgent,
            ...(authorization === undefined ? {} : { authorization }),
          },
          timeout: this.timeoutMs,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.once('error', reject);
        },
      );
      req.once('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.once('error', reject);
      req.end();
    });
    if (status >= 200 && status < 300) return JSON.parse(body) as T;
    let reason: string | undefined;
    let message = `HTTP ${status}`;
    try {
      const parsed = asMap(JSON.parse(body));
      reason = str(parsed, 'reason');
      if (str(parsed, 'message') !== undefined) message = `HTTP ${status}: ${str(parsed, 'message')}`;
    } catch {
      // Not a Status object: the code says enough.
    }
    throw new KubeApiError(status, reason, message);
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.agent.destroy();
  }
}
