// `gym k8s render` as a user runs it (a real subprocess, real files), then
// the rendered tree through scripts/validate-manifests.sh: the Kubernetes
// 1.33 schemas, strict, for the base and the overlay as merged.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, run, type Exec } from "../../testing/helpers.js";

const GYM = path.join(ROOT, "bin/gym.js");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-k8s-cli-"));

/** The validation script: a first run may create .venv and install kubernetes-validate, hence the long timeout. */
function validate(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Exec> {
  return new Promise((resolve) => {
    execFile("bash", ["scripts/validate-manifests.sh", dir], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 280_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("gym k8s render (CLI)", () => {
  it("writes the base and the example overlay, which validate against the Kubernetes schemas", { timeout: 300_000 }, async () => {
    const out = path.join(tmp(), "k8s");
    const res = await run(process.execPath, [GYM, "k8s", "render", "--config", "config/grpo.yaml", "--out", out, "--replicas", "rollout=2", "--namespace", "rl"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`${out}/base/kustomization.yaml`);
    expect(res.stdout).toMatch(/5 instances in namespace rl \(.*rollout=2\)/);
    expect(fs.readFileSync(path.join(out, "base/instances/rollout.yaml"), "utf8")).toMatch(/replicas: 2/);
    expect(fs.existsSync(path.join(out, "overlays/example/kustomization.yaml"))).toBe(true);

    const checked = await validate(out);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/^valid for Kubernetes 1\.33\.0 .*strict\): base 17 objects .*; overlays\/example 17 objects/m);
    // Without kubectl: the script's own merge of the overlay.
    const merged = await validate(out, { KUBECTL: "" });
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toContain("overlays/example 17 objects (merged here)");

    // A broken object fails the check.
    const file = path.join(out, "base/instances/rollout.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("enableServiceLinks: false", "enableServiceLinks: false\n      notAField: 1"));
    const broken = await validate(out, { KUBECTL: "" });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("Deployment/rollout: spec.template.spec: Additional properties are not allowed ('notAField' was unexpected)");
  });

  it("refuses bad input with a one-line error and exit code 2", async () => {
    const out = path.join(tmp(), "k8s");
    const unknown = await run(process.execPath, [GYM, "k8s", "render", "--config", "config/default.yaml", "--out", out, "--replicas", "nope=2"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^gym: --replicas nope=2: no instance "nope" in config\/default\.yaml \(instances: mock_openai, /);
    const zero = await run(process.execPath, [GYM, "k8s", "render", "--config", "config/default.yaml", "--out", out, "--replicas", "rollout=0"]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("whole number of at least 1");
    const config = path.join(tmp(), "mesh.yaml");
    fs.writeFileSync(config, "instances:\n  a:\n    kind: agent\n    model: m\n");
    const bad = await run(process.execPath, [GYM, "k8s", "render", "--config", config, "--out", out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${config}: instances.a.resources:`);
    const noOut = await run(process.execPath, [GYM, "k8s", "render", "--config", "config/default.yaml"]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--out");
    // Nothing was written for any of them.
    expect(fs.existsSync(out)).toBe(false);
  });
});
