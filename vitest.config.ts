import { defineConfig } from 'vitest/config';

// SKMEM_VITEST_JSON (set by .ci/run) also writes a JSON report for the "N passed, N failed" line.
const json = process.env.SKMEM_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The live-kernel tests share one machine's namespaces and cgroups: run files one at a time.
    fileParallelism: false,
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
