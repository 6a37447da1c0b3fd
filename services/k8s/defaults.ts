// The defaults of `gym k8s render`, apart from the renderer so the command's
// help loads without it.
import * as fs from "node:fs";
import { inPackage } from "../app/package-root.js";

const VERSION = (JSON.parse(fs.readFileSync(inPackage("package.json"), "utf8")) as { version: string }).version;
/** A local image name: build it from this checkout (tagged with its version) and load or push it, or pass --image. */
export const DEFAULT_IMAGE = `gym-mesh:${VERSION}`;
export const DEFAULT_NAMESPACE = "gym";
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
