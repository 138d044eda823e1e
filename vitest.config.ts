import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
