// The import rules of ARCHITECTURE.md, checked on the real imports of every
// production module (tests may import anything): the runtime (services/mesh)
// imports nothing above it, each folder imports only the folders below it
// that the table allows, and no production code imports a test kit.
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "../testing/helpers.js";

/** Folder under services/ -> the folders under services/ it may import (gen/ is open to all). */
const MAY_IMPORT: Record<string, string[]> = {
  mesh: [],
  pycompat: [],
  openai: [],
  model: ["mesh", "openai"],
  "mock-model": ["mesh", "openai"],
  "nemo-gym": ["mesh", "openai"],
  resources: ["mesh", "openai", "pycompat", "nemo-gym"],
  environments: ["resources", "openai", "pycompat"],
  agent: ["mesh", "openai", "pycompat", "resources", "nemo-gym"],
  rollout: ["mesh", "openai", "nemo-gym"],
  collect: ["mesh", "openai", "pycompat"],
  client: ["mesh"],
  app: ["mesh", "model", "mock-model", "resources", "nemo-gym", "agent", "rollout", "environments", "collect"],
  cli: ["app", "mesh", "openai", "resources", "environments", "agent", "collect", "client", "k8s", "viewer"],
  k8s: ["app", "mesh"],
  viewer: ["app", "mesh"],
};

function productionModules(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) out.push(file);
    }
  };
  walk(path.join(ROOT, "services"));
  return out;
}

/** The relative imports of a module, resolved to repo-relative paths (strings inside templates are not imports). */
function importsOf(file: string, text = fs.readFileSync(file, "utf8")): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => path.relative(ROOT, path.resolve(path.dirname(file), spec)));
}

/** The imports of one module that break the table. */
function violations(file: string, text?: string): string[] {
  const from = folderOf(path.relative(ROOT, file));
  return importsOf(file, text)
    .filter((target) => {
      const to = folderOf(target);
      return to !== from && to !== "gen" && !MAY_IMPORT[from]?.includes(to);
    })
    .map((target) => `${path.relative(ROOT, file)} imports ${target}`);
}

/** `services/mesh/serve.js` -> "mesh"; `gen/...` -> "gen"; `testing/x.js` -> "testing". */
function folderOf(repoPath: string): string {
  const [top, sub] = repoPath.split(path.sep);
  return top === "services" ? sub! : top!;
}

describe("architecture", () => {
  const modules = productionModules();

  it("knows every folder under services/", () => {
    const folders = fs.readdirSync(path.join(ROOT, "services"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.sort()).toEqual(Object.keys(MAY_IMPORT).sort());
    expect(modules.length).toBeGreaterThan(80);
  });

  it("every production import follows the table (the runtime imports nothing above it)", () => {
    expect(modules.flatMap((file) => violations(file))).toEqual([]);
  });

  it("would catch a runtime module that imports a kind, or an environment that imports the app", () => {
    const serve = path.join(ROOT, "services/mesh/serve.ts");
    const upward = `${fs.readFileSync(serve, "utf8")}\nimport { modelKind } from "../model/kind.js";\n`;
    expect(violations(serve, upward)).toEqual(["services/mesh/serve.ts imports services/model/kind.js"]);
    const env = path.join(ROOT, "services/environments/mcqa/environment.ts");
    expect(violations(env, 'import { KINDS } from "../../app/kinds.js";')).toHaveLength(1);
    // Text inside a template string (new-env's scaffold) is not an import.
    expect(violations(serve, "const t = `import { x } from \"../model/kind.js\";`;")).toEqual([]);
  });

  it("keeps the client package's entry free of servers: it loads only client/, mesh transports and gen/", () => {
    const seen = new Set<string>();
    const visit = (repoPath: string) => {
      if (seen.has(repoPath)) return;
      seen.add(repoPath);
      for (const target of importsOf(path.join(ROOT, repoPath))) visit(target.replace(/\.js$/, ".ts"));
    };
    visit("services/client/index.ts");
    const loaded = [...seen].sort();
    expect(loaded).toContain("services/mesh/grpc-js-transport.ts");
    expect(loaded.filter((f) => !/^(services\/(client|mesh)|gen)\//.test(f))).toEqual([]);
    // Nothing that serves: importing the client starts no server and loads no server code.
    expect(loaded.filter((f) => /^services\/mesh\/(serve|grpc-js-server|local-transport|kind|metrics|health|reflection)\.ts$/.test(f))).toEqual([]);
  });

  it("keeps test kits out of production code", () => {
    const offenders = modules.filter((file) => importsOf(file).some((t) => ["testing", "test"].includes(folderOf(t))));
    expect(offenders.map((f) => path.relative(ROOT, f))).toEqual([]);
  });
});
