import { describe, expect, it } from 'vitest';
import { roleSessionName } from '../../../src/auth/sessionName.js';

describe('roleSessionName', () => {
  it('names the namespace and the pod', () => {
    expect(roleSessionName('payments', 'api-7d9f8-x2x4q')).toBe('payments.api-7d9f8-x2x4q');
  });

  it('replaces characters STS does not allow', () => {
    expect(roleSessionName('ns', 'pod:with/odd chars')).toBe('ns.pod-with-odd-chars');
  });

  it('stays within 64 characters and keeps distinct long names distinct', () => {
    const a = roleSessionName('a-very-long-namespace-name-for-testing', 'a-very-long-pod-name-that-goes-on-1');
    const b = roleSessionName('a-very-long-namespace-name-for-testing', 'a-very-long-pod-name-that-goes-on-2');
    expect(a).toHaveLength(64);
    expect(b).toHaveLength(64);
    expect(a).not.toBe(b);
    expect(a.startsWith('a-very-long-namespace-name-for-testing.a-very-long-pod')).toBe(true);
  });

  it('is never shorter than the two characters STS requires', () => {
    expect(roleSessionName('', '')).toHaveLength(2);
  });
});
