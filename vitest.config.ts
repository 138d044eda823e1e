import { defineConfig } from 'vitest/config';

/**
 * What the unit project does not measure, and why: each runs only as part of a process, and is proven by the
 * integration tests that start one (test/integration).
 */
const COVERAGE_LEFT_OUT = [
  // The entry point: flags, signals and the exit code of the process.
  'src/main.ts',
];

export default defineConfig({
  test: {
    // Measured by `npm test` (so CI fails below the threshold) and by `npm run test:unit`, which measures the unit
    // project alone and must meet it by itself. The integration, e2e and node projects run the provider as a process,
    // whose lines this report cannot see; they add only what their test processes run in-process.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: COVERAGE_LEFT_OUT,
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 85 },
      reportOnFailure: true,
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/harness/globalSetup.ts'],
          setupFiles: ['test/harness/setup.ts'],
          // One moto and one apiserver serve every file; files take turns so a reset never hits a neighbour.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/harness/globalSetup.ts'],
          setupFiles: ['test/harness/setup.ts'],
          // The real CSI driver → the provider → moto: files take turns, as in integration.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 180_000,
          // After unit and integration, so its timing does not compete with them for this machine's two cores.
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          // A node of its own: kubelet, containerd, the control plane, the image built from the Dockerfile's steps.
          globalSetup: ['test/harness/node/globalSetup.ts'],
          setupFiles: ['test/harness/node/setup.ts'],
          // One node: files take turns, each installing the chart and removing it again.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 300_000,
          // Last: real pods on a 2-core machine compete with every other tier's timing.
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
