import { defineConfig } from "vitest/config";

// The container-engine test (npm run test:engine): podman builds the image and runs the rendered manifests.
export default defineConfig({
  test: {
    include: ["test/engine/**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 1_500_000,
  },
});
