import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../../src/config/flags.js';

describe('the limit flags', () => {
  it('default to the documented limits', () => {
    const flags = parseFlags([]);
    expect(flags).toMatchObject({
      maxConcurrentMounts: 128,
      maxMountBytes: 64 * 1024 * 1024,
      maxRequestBytes: 3 * 1024 * 1024,
      maxAnswerBytes: 4 * 1024 * 1024,
      maxObjects: 256,
      maxConnectionIdleMs: 30_000,
    });
  });

  it.each([
    ['4194304', 4_194_304],
    ['1536Ki', 1_572_864],
    ['1.5Mi', 1_572_864],
    ['1Gi', 1024 ** 3],
  ])('reads a size of %s as %d bytes', (text, bytes) => {
    expect(parseFlags([`--max-answer-size=${text}`]).maxAnswerBytes).toBe(bytes);
  });

  it.each(['4MB', '-1', '0', 'Mi', ''])('refuses the size "%s", saying how to write one', (text) => {
    expect(() => parseFlags([`--max-request-size=${text}`])).toThrow(/--max-request-size must be a size in bytes like 4194304, 1536Ki or 4Mi/);
  });

  it('refuses a connection idle time of zero', () => {
    expect(() => parseFlags(['--max-connection-idle=0'])).toThrow(/--max-connection-idle must be a positive number/);
  });
});

describe('--sts-endpoints', () => {
  it('is empty by default: every region resolves its STS endpoint as the SDK does', () => {
    expect(parseFlags([]).stsEndpoints).toEqual({});
  });

  it('reads region=URL pairs', () => {
    const flags = parseFlags(['--sts-endpoints=us-east-1=http://127.0.0.1:8001, us-west-2=https://sts.example.test/a=b']);
    expect(flags.stsEndpoints).toEqual({ 'us-east-1': 'http://127.0.0.1:8001', 'us-west-2': 'https://sts.example.test/a=b' });
  });

  it.each(['us-east-1', 'us-east-1=', 'east=http://x', 'us-east-1=ftp://x', 'us-east-1=http://a,us-east-1=http://b'])(
    'refuses "%s", naming the flag',
    (text) => {
      expect(() => parseFlags([`--sts-endpoints=${text}`])).toThrow(/--sts-endpoints/);
    },
  );
});
