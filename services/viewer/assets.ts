// Where the page's files are at run time. They are not TypeScript, so the
// build (dist/) does not carry them: they are read from the package root,
// from the sources and from the compiled code alike (app/package-root.ts).
// marked and DOMPurify come from node_modules as their browser builds.
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { inPackage } from "../app/package-root.js";
import { UsageError } from "../mesh/errors.js";

export const WEB_DIR = inPackage("services", "viewer", "web");

const require = createRequire(import.meta.url);

/** The browser builds of the libraries the page uses, by the name the page loads them as. */
export function vendorFiles(): Record<string, string> {
  return {
    "marked.js": path.join(path.dirname(require.resolve("marked")), "marked.umd.js"),
    "purify.js": path.join(path.dirname(require.resolve("dompurify")), "purify.min.js"),
  };
}

/** The page's own files (web/), by name. */
export function webFiles(): string[] {
  // An install that copied only the compiled code lacks them: say where they should be.
  if (!fs.existsSync(path.join(WEB_DIR, "index.html"))) throw new UsageError(`the viewer's page is missing: no ${path.join(WEB_DIR, "index.html")} (copy services/viewer/web beside the build)`);
  return fs.readdirSync(WEB_DIR).filter((f) => /\.(html|css|js|svg)$/.test(f));
}

export const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json; charset=utf-8",
};

export const contentType = (file: string) => CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream";
