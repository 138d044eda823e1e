import { status } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { parseMountRequest, type MountRequestFields } from '../../../src/config/mountRequest.js';
import type { MountConfig } from '../../../src/config/types.js';
import { ProviderError, type ErrorCode } from '../../../src/errors.js';

export const POD_ATTRIBUTES = {
  'csi.storage.k8s.io/pod.name': 'web-0',
  'csi.storage.k8s.io/pod.namespace': 'shop',
  'csi.storage.k8s.io/pod.uid': '2b1f0c3e-0000-4000-8000-000000000001',
  'csi.storage.k8s.io/serviceAccount.name': 'web',
  secretProviderClass: 'aws-secrets',
};

/** A MountRequest as the driver sends it, with the SPC parameters given and the pod info filled in. */
export function mountRequest(parameters: Record<string, string>, overrides: Partial<MountRequestFields> = {}) {
  return {
    attributes: JSON.stringify({ ...POD_ATTRIBUTES, ...parameters }),
    secrets: 'null',
    targetPath: '/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/secrets/mount',
    permission: '420',
    ...overrides,
  };
}

export function parse(parameters: Record<string, string>, overrides: Partial<MountRequestFields> = {}): MountConfig {
  return parseMountRequest(mountRequest(parameters, overrides));
}

/** Runs fn, expects an INVALID_ARGUMENT ProviderError, and returns it for further checks. */
export function invalid(fn: () => unknown, code: ErrorCode = 'InvalidSecretProviderClass'): ProviderError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    const error = err as ProviderError;
    expect(error.grpcStatus).toBe(status.INVALID_ARGUMENT);
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error('expected an error, got none');
}
