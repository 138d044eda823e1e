import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { parseMountRequest } from '../../src/config/mountRequest.js';
import { ProviderError } from '../../src/errors.js';
import { mountRequest } from './config/request.js';

describe('ProviderError messages stay small enough for a gRPC trailer and a pod event', () => {
  it('a 70,000-character objectName is quoted by its start and its length', () => {
    const name = `${'n'.repeat(70_000)}`;
    let error: unknown;
    try {
      parseMountRequest(mountRequest({ objects: `- objectName: ${name}\n  objectType: secretsmanager\n` }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProviderError);
    const { message, grpcStatus } = error as ProviderError;
    expect(grpcStatus).toBe(status.INVALID_ARGUMENT);
    expect(message.length).toBeLessThan(4000);
    expect(message).toContain(`"${'n'.repeat(160)}…" (70000 characters)`);
    // The advice at the end survives.
    expect(message).toMatch(/Set an objectAlias/);
  });

  it('short quoted values are left as they are', () => {
    const error = new ProviderError(status.NOT_FOUND, 'ObjectNotFound', 'objects[0] "prod/db" in us-east-1: gone');
    expect(error.message).toBe('objects[0] "prod/db" in us-east-1: gone');
  });

  it('a long message without quotes keeps its start and its end', () => {
    const error = new ProviderError(status.INTERNAL, 'Internal', `start ${'word '.repeat(5000)} end`);
    expect(error.message.length).toBeLessThanOrEqual(4000);
    expect(error.message.startsWith('start ')).toBe(true);
    expect(error.message.endsWith(' end')).toBe(true);
  });
});
