#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so there is no build step.
import { register } from "tsx/esm/api";

register();
await import("../services/cli/main.ts");
