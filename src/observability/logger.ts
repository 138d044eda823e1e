import { pino, type Logger } from 'pino';

export type { Logger };

const CENSOR = '[redacted]';
/** Fields censored at the top of a log line. */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['token', 'tokens', 'credentials']);
/** Fields censored one level down, inside any field of a log line (an error, a request, a config). */
const NESTED_SECRET_FIELDS = ['token', 'credentials', 'secretAccessKey', 'sessionToken'];

/**
 * A log line's fields with any that could hold a token or credentials replaced by "[redacted]": a second line of
 * defence, since no code path logs them on purpose. The fields given are left as they are; only what is censored is
 * copied, an error keeping its prototype and its message and stack.
 *
 * pino's own `redact` did this with wildcard paths, which it parses again for every line: a Mount's line took ~97 µs
 * with it on the image's node options, ~17 µs with this (README, Performance).
 */
export function censorSecrets(fields: Record<string, unknown>): Record<string, unknown> {
  let censored: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (SECRET_FIELDS.has(key)) {
      (censored ??= { ...fields })[key] = CENSOR;
    } else if (typeof value === 'object' && value !== null) {
      const found = NESTED_SECRET_FIELDS.filter((field) => Object.hasOwn(value, field));
      if (found.length === 0) continue;
      const descriptors = Object.getOwnPropertyDescriptors(value);
      for (const field of found) descriptors[field] = { value: CENSOR, enumerable: true, writable: true, configurable: true };
      const copy = Object.create(Object.getPrototypeOf(value), descriptors) as Record<string, unknown>;
      (censored ??= { ...fields })[key] = copy;
    }
  }
  return censored ?? fields;
}

/** JSON lines on stdout, with fields that could hold secrets censored (censorSecrets), a child's bindings included. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: { component: 'aws-secrets-csi-provider' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: censorSecrets },
    },
    destination,
  );
  // pino hands a child's bindings to no formatter (its `bindings` formatter is for the root's base alone). A child
  // inherits this from its parent, so grandchildren are covered too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, censorSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}
