// npm run build: compiles services/ and gen/ (no test) to dist/, the
// JavaScript that bin/gym.js and the image run. It compiles beside dist/ and
// swaps the result in whole, so a gym process starting meanwhile loads the
// old build or the new one, never half of each. dist/build-info.json, written
// last, is what bin/gym.js compares with the sources' times.
//
//   node scripts/build.mjs [OUT_DIR]     (default dist/)
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.resolve(process.argv[2] ?? path.join(root, "dist"));
const fresh = path.join(path.dirname(dist), `.dist-${process.pid}`);
const old = path.join(path.dirname(dist), `.dist-old-${process.pid}`);
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");

try {
  execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json"), "--outDir", fresh], { stdio: "inherit" });
  fs.writeFileSync(path.join(fresh, "build-info.json"), JSON.stringify({ built: new Date().toISOString(), node: process.version }) + "\n");
  if (fs.existsSync(dist)) fs.renameSync(dist, old);
  fs.renameSync(fresh, dist);
} catch (err) {
  fs.rmSync(fresh, { recursive: true, force: true });
  console.error(`build failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(old, { recursive: true, force: true });
}
