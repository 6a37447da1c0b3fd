// The config's `security:` section: a bearer token every instance checks and
// sends to its peers, and TLS on both ports of every instance (mutual with a
// CA). The token and the files are read when the config loads, so a variable
// that is not set or a file that cannot be read fails at start, naming the field.
//
//   security:
//     token_env: GYM_TOKEN          # or token_file: /var/run/secrets/gym/token
//     metrics_public: true          # GET /metrics without the token (default)
//     tls:
//       cert_file: tls/tls.crt      # relative to the config's folder
//       key_file: tls/tls.key
//       ca_file: tls/ca.crt         # mTLS: clients need a certificate signed by it
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { z } from "zod";
import type { MeshSecurity } from "../mesh/auth.js";
import { ConfigError } from "../mesh/errors.js";

const file = z.string().min(1, "must be a file path");

export const SecuritySection = z.strictObject({
  /** The name of an environment variable (or env.yaml key) holding the token. */
  token_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be the name of an environment variable (e.g. GYM_TOKEN), not the token")
    .optional(),
  /** A file holding the token (a mounted Kubernetes Secret), read at start; surrounding whitespace is dropped. */
  token_file: file.optional(),
  /** GET /metrics answers without the token (Prometheus scraping inside the cluster). */
  metrics_public: z.boolean().default(true),
  tls: z
    .strictObject({
      cert_file: file,
      key_file: file,
      /** With it, clients must present a certificate signed by it (mutual TLS); peers' certificates are checked against it. */
      ca_file: file.optional(),
    })
    .optional(),
});

/** The shortest token accepted: a short one could be guessed, and could not be told apart in logs. */
const MIN_TOKEN_LENGTH = 16;

/** Validates the section and reads its token and files; undefined when it asks for nothing. */
export function parseSecurity(raw: unknown, at: { file: string; vars: Record<string, string | undefined> }): MeshSecurity | undefined {
  if (raw === undefined || raw === null) return undefined;
  const parsed = SecuritySection.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${at.file}: ${["security", ...issue.path.map(String)].join(".")}: ${issue.message}`);
  }
  const section = parsed.data;
  const dir = path.dirname(at.file);
  const fail = (field: string, why: string) => new ConfigError(`${at.file}: security.${field}: ${why}`);
  const read = (field: string, name: string): Buffer => {
    try {
      return fs.readFileSync(path.resolve(dir, name));
    } catch (err) {
      throw fail(field, `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };

  let token: string | undefined;
  if (section.token_env !== undefined && section.token_file !== undefined) throw fail("token_file", "give token_env or token_file, not both");
  if (section.token_env !== undefined) {
    token = at.vars[section.token_env]?.trim();
    if (!token) throw fail("token_env", `${section.token_env} is not set (environment or env.yaml)`);
    const problem = tokenProblem(token);
    if (problem) throw fail("token_env", `the token in ${section.token_env} ${problem}`);
  } else if (section.token_file !== undefined) {
    token = read("token_file", section.token_file).toString("utf8").trim();
    if (!token) throw fail("token_file", `${section.token_file} is empty`);
    const problem = tokenProblem(token);
    if (problem) throw fail("token_file", `the token in ${section.token_file} ${problem}`);
  }

  let material: MeshSecurity["tls"];
  if (section.tls) {
    const { cert_file, key_file, ca_file } = section.tls;
    material = { cert: read("tls.cert_file", cert_file), key: read("tls.key_file", key_file), ca: ca_file === undefined ? undefined : read("tls.ca_file", ca_file) };
    const usable = (field: string, name: string, check: () => unknown) => {
      try {
        check();
      } catch (err) {
        throw fail(field, `${name}: ${(err as Error).message}`);
      }
    };
    usable("tls.cert_file", cert_file, () => new crypto.X509Certificate(material!.cert));
    usable("tls.key_file", key_file, () => crypto.createPrivateKey(material!.key));
    usable("tls.key_file", `${key_file} with ${cert_file}`, () => tls.createSecureContext({ cert: material!.cert, key: material!.key }));
    if (ca_file !== undefined) usable("tls.ca_file", ca_file, () => new crypto.X509Certificate(material!.ca!));
  }

  if (token === undefined && material === undefined) return undefined;
  return { token, metricsPublic: section.metrics_public, tls: material };
}

/** What keeps a token from being used (too short to be safe, unfit for an HTTP header); never shows the token. */
function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `is too short (at least ${MIN_TOKEN_LENGTH} characters; e.g. \`openssl rand -hex 32\`)`;
  if (!/^[\x21-\x7e]+$/.test(token)) return "must be printable ASCII with no spaces (it is sent in an HTTP header)";
  return undefined;
}
