import { randomUUID } from 'node:crypto';
import type { MountResponseMessage } from '../../src/server/proto.js';

/** The benchmark's SecretProviderClass (S1–S4): 20 Secrets Manager secrets and 20 SSM parameters. */
export const SECRETS = 20;
export const PARAMETERS = 20;

export interface BenchObject {
  objectName: string;
  objectType: string;
}

export function benchObjects(): BenchObject[] {
  const pad = (i: number) => String(i + 1).padStart(2, '0');
  return [
    ...Array.from({ length: SECRETS }, (_, i) => ({ objectName: `bench/secret-${pad(i)}`, objectType: 'secretsmanager' })),
    ...Array.from({ length: PARAMETERS }, (_, i) => ({ objectName: `/bench/param-${pad(i)}`, objectType: 'ssmparameter' })),
  ];
}

/** What the bench seeds for the i-th object in `region` (test data, not a secret). */
export function benchValue(object: BenchObject, i: number, region: string): string {
  return object.objectType === 'secretsmanager' ? `secret value ${i} in ${region}` : `parameter ${i} in ${region}`;
}

/**
 * An answer of the shape and size a provider gives for the bench's SecretProviderClass: a file per object, named as
 * the default pathTranslation names it, and its version (a UUID from Secrets Manager, a number from SSM).
 */
export function benchAnswer(region: string): MountResponseMessage {
  const objects = benchObjects();
  const path = (object: BenchObject) => object.objectName.replaceAll('/', '_');
  return {
    objectVersion: objects.map((object) => ({
      id: path(object),
      version: object.objectType === 'secretsmanager' ? randomUUID() : '1',
    })),
    files: objects.map((object, i) => ({ path: path(object), mode: 0o644, contents: Buffer.from(benchValue(object, i, region)) })),
  };
}
