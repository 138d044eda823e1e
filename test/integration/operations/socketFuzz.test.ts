import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MountRequestMessage } from '../../../src/server/proto.js';
import { mountRequestArb, SECRET_MARKER } from '../../fuzz/mountInputs.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import { expectGoodMount, metricsText, providerCode, sample } from './support.js';

const env = useMountEnvironment({ providerEnv: { AWS_REGION: 'us-east-1' }, providerArgs: ['--qps=200', '--burst=200'] });
const REQUESTS = 300;
const CONCURRENCY = 25;

const anyText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom('', 'null', '{}', '[]', '420', '-1', '{"a":"b"}', SECRET_MARKER),
);

/** Random strings in every field of the message, or the fuzzer's mutated SecretProviderClasses. */
const wireRequest: fc.Arbitrary<MountRequestMessage> = fc.oneof(
  fc.record({
    attributes: anyText,
    secrets: anyText,
    targetPath: anyText,
    permission: anyText,
    currentObjectVersion: fc.array(fc.record({ id: anyText, version: anyText }), { maxLength: 3 }),
  }),
  fc
    .tuple(mountRequestArb, fc.array(fc.record({ id: anyText, version: anyText }), { maxLength: 2 }))
    .map(([request, currentObjectVersion]) => ({ ...request, currentObjectVersion })),
);

/** What a random request may legitimately come to: the provider's own refusals, never a crash of ours. */
const ANSWERABLE = [
  status.INVALID_ARGUMENT,
  status.FAILED_PRECONDITION,
  status.NOT_FOUND,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
];

describe('the socket server under random MountRequests', () => {
  it(`${REQUESTS} random requests, ${CONCURRENCY} at a time: each answered with a status and our code; then Version and a real Mount`, async () => {
    const requests = fc.sample(wireRequest, { numRuns: REQUESTS });
    const before = await metricsText(env.provider.metricsUrl);
    const outcomes: { code: number; providerCode: string | undefined; details: string }[] = [];

    for (let i = 0; i < requests.length; i += CONCURRENCY) {
      const batch = requests.slice(i, i + CONCURRENCY).map((request) =>
        env.provider.client.mount(request, 30_000).then(
          () => ({ code: status.OK, providerCode: undefined, details: '' }),
          (err: grpc.ServiceError) => ({ code: err.code, providerCode: providerCode(err), details: err.details }),
        ),
      );
      outcomes.push(...(await Promise.all(batch)));
    }

    expect(outcomes).toHaveLength(REQUESTS);
    // A provider that died drops every later connection: say why it died rather than list 300 dropped calls.
    const { exitCode, signalCode } = env.provider.process;
    expect({ exitCode, signalCode }, `the provider ended; its last output:\n${env.provider.output().slice(-4000)}`).toEqual({ exitCode: null, signalCode: null });
    const unexpected = outcomes.filter((o) => !ANSWERABLE.includes(o.code) || o.providerCode === undefined);
    expect(unexpected).toEqual([]);
    expect(outcomes.filter((o) => o.details.includes(SECRET_MARKER))).toEqual([]);
    expect((await env.provider.client.version()).version).toBe('v1alpha1');

    const after = await metricsText(env.provider.metricsUrl);
    const counted = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('aws_provider_mounts_total{'))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    expect(counted(after) - counted(before)).toBe(REQUESTS);
    expect(sample(after, 'aws_provider_mounts_total{result="error",code="Internal"}')).toBe(0);
    await expectGoodMount(env, await env.pod('after-fuzz'), 'us-east-1');
  });
});
