// What `gym collect --url` gives its client for a mesh with security on: the
// bearer token from the environment (GYM_TOKEN; never a flag, which `ps` and
// shell history would show) and TLS files: a CA to trust, and a client
// certificate and key for mutual TLS.
import * as fs from "node:fs";
import { UsageError } from "../mesh/errors.js";
import { hideInLogs } from "../mesh/log.js";
import type { TransportOptions } from "./transport.js";

/** The environment variable `gym collect --url` reads the token from. */
export const TOKEN_ENV = "GYM_TOKEN";

export function remoteOptions(files: { ca?: string; cert?: string; key?: string }, env: NodeJS.ProcessEnv = process.env): Pick<TransportOptions, "token" | "tls"> {
  const token = env[TOKEN_ENV]?.trim() || undefined;
  if (token) hideInLogs(token);
  if ((files.cert === undefined) !== (files.key === undefined)) throw new UsageError("--cert and --key go together (a client certificate and its key)");
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new UsageError(`cannot read the ${flag} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const tls = files.ca !== undefined || files.cert !== undefined ? { ca: read("--ca", files.ca), cert: read("--cert", files.cert), key: read("--key", files.key) } : undefined;
  return { token, tls };
}
