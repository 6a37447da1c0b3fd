// The folder that holds package.json. Files shipped beside the code (config/,
// the environments' data/) are found from it, whether the code runs from the
// sources (services/app/) or compiled (dist/services/app/).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = packageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A path inside the package: `inPackage("config", "default.yaml")`. */
export const inPackage = (...parts: string[]): string => path.join(PACKAGE_ROOT, ...parts);

/** The config `gym` starts when none is given. */
export const DEFAULT_CONFIG = inPackage("config", "default.yaml");
