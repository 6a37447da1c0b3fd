import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["services/**/*.test.ts", "test/**/*.test.ts"],
    // The container-engine test runs on its own (npm run test:engine): it builds an image and uses both cores.
    exclude: ["test/engine/**", "**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
