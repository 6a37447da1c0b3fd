#!/usr/bin/env node
// The gym command. It runs the compiled JavaScript in dist/ (`npm run build`;
// what the image ships) when that build is at least as new as every source
// file, and the TypeScript sources through tsx otherwise, so an edit is live
// without a build. GYM_FROM_SOURCES=1 always runs the sources.
import * as fs from "node:fs";

const root = new URL("../", import.meta.url);
const compiled = new URL("dist/services/cli/main.js", root);
const buildInfo = new URL("dist/build-info.json", root);
const sources = new URL("services/cli/main.ts", root);

// `gym collect ... | head`: a reader that went away is no error (and no stack).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
  });
}

/** The newest modification time (ms) of the TypeScript the build compiles. */
function newestSource() {
  let newest = 0;
  for (const dir of ["services", "gen"]) {
    for (const file of fs.readdirSync(new URL(dir, root), { recursive: true })) {
      if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
      newest = Math.max(newest, fs.statSync(new URL(`${dir}/${file}`, root)).mtimeMs);
    }
  }
  return newest;
}

function useBuild() {
  if (!fs.existsSync(buildInfo)) return false;
  if (!fs.existsSync(sources)) return true;
  if (process.env.GYM_FROM_SOURCES === "1") return false;
  return fs.statSync(buildInfo).mtimeMs >= newestSource();
}

if (useBuild()) {
  await import(compiled.href);
} else if (fs.existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(sources.href);
} else {
  // The npm package (npm pack) ships the compiled client (lib/), not the CLI.
  console.error('gym: this installed gym-mesh package is the TypeScript client only (import { createGymClient } from "gym-mesh"); run the gym command from a gym-mesh checkout or image');
  process.exit(2);
}
