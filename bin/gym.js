#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so there is no build step.
import { existsSync } from "node:fs";
import { register } from "tsx/esm/api";

// The npm package (npm pack) ships the compiled client, not the CLI's sources.
if (!existsSync(new URL("../services/cli/main.ts", import.meta.url))) {
  console.error('gym: this installed gym-mesh package is the TypeScript client only (import { createGymClient } from "gym-mesh"); run the gym command from a gym-mesh checkout');
  process.exit(2);
}

// `gym collect ... | head`: a reader that went away is no error (and no stack).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
  });
}

register();
await import("../services/cli/main.ts");
