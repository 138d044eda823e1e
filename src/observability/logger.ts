import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Paths that could ever hold a token or credentials are censored as a second line of
 * defence: no code path logs them on purpose.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: 'aws-secrets-csi-provider' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['token', 'tokens', 'credentials', '*.token', '*.credentials', '*.secretAccessKey', '*.sessionToken'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
