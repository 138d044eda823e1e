import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { censorSecrets, createLogger } from '../../../src/observability/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // pino writes synchronously to a plain stream's write(), so each line is in `lines` once the call returns.
  return { logger: createLogger('info', destination), lines };
}

describe('log lines censor fields that could hold secrets', () => {
  it('censors token, tokens and credentials at the top of a line', () => {
    const { logger, lines } = capture();
    logger.info({ token: 'eyJhbGciOi.jwt', tokens: { 'sts.amazonaws.com': { token: 't' } }, credentials: { a: 1 }, pod: 'web-0' }, 'mount');
    expect(lines[0]).toMatchObject({ token: '[redacted]', tokens: '[redacted]', credentials: '[redacted]', pod: 'web-0', msg: 'mount' });
  });

  it('censors token, credentials, secretAccessKey and sessionToken one level down, errors included', () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error('AssumeRoleWithWebIdentity failed'), { token: 'eyJ.jwt', sessionToken: 'IQo' });
    logger.error({ err, identity: { roleArn: 'arn:aws:iam::1:role/r', secretAccessKey: 'wJalr', credentials: {} } }, 'failed');
    const line = lines[0] as { err: Record<string, unknown>; identity: Record<string, unknown> };
    expect(line.err).toMatchObject({ type: 'Error', message: 'AssumeRoleWithWebIdentity failed', token: '[redacted]', sessionToken: '[redacted]' });
    expect(line.err.stack).toContain('AssumeRoleWithWebIdentity failed');
    expect(line.identity).toEqual({ roleArn: 'arn:aws:iam::1:role/r', secretAccessKey: '[redacted]', credentials: '[redacted]' });
  });

  it("censors a child logger's bindings, and a grandchild's", () => {
    const { logger, lines } = capture();
    const child = logger.child({ token: 'eyJ.jwt', request: { sessionToken: 'IQo', id: 7 } });
    child.info('x');
    child.child({ credentials: { accessKeyId: 'AKIA' }, pod: 'web-0' }).info('y');
    expect(lines[0]).toMatchObject({ token: '[redacted]', request: { sessionToken: '[redacted]', id: 7 } });
    expect(lines[1]).toMatchObject({ token: '[redacted]', credentials: '[redacted]', pod: 'web-0', msg: 'y' });
  });

  it("leaves the caller's objects as they were, and a line with nothing to censor as it is", () => {
    const err = Object.assign(new Error('e'), { token: 'eyJ.jwt' });
    const fields = { token: 'eyJ.jwt', err, pod: 'web-0' };
    const censored = censorSecrets(fields);
    expect(fields.token).toBe('eyJ.jwt');
    expect(err.token).toBe('eyJ.jwt');
    expect(censored.err).toBeInstanceOf(Error);
    expect((censored.err as Error).message).toBe('e');
    const clean = { pod: 'web-0', files: 40, labels: { app: 'web' } };
    expect(censorSecrets(clean)).toBe(clean);
  });

  it('no value under a censored field reaches the output, whatever else the line holds', () => {
    const secret = fc.string({ minLength: 8 }).map((s) => `SECRET-${s}`);
    const other = fc.dictionary(fc.string().filter((k) => !['token', 'tokens', 'credentials'].includes(k)), fc.jsonValue());
    const nested = fc.record({ token: secret, credentials: secret, secretAccessKey: secret, sessionToken: secret }, { requiredKeys: [] });
    fc.assert(
      fc.property(other, secret, fc.string(), nested, (fields, value, field, inner) => {
        const { logger, lines } = capture();
        logger.info({ ...fields, token: value, [`x${field}`]: { ...inner, kept: 1 } }, 'line');
        const written = JSON.stringify(lines[0]);
        for (const hidden of [value, ...Object.values(inner)]) expect(written).not.toContain(JSON.stringify(hidden).slice(1, -1));
      }),
      { numRuns: 200 },
    );
  });
});
