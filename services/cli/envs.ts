// `gym envs`: the built-in environments, each with its kind, its tools (name
// and argument types, from the JSON schema the model is offered) and its
// settings (set per resources instance under `settings:`). `gym agents`: the
// agent kinds.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { z } from "zod";
import { AGENT_KINDS } from "../agent/agent-kinds.js";
import { environments } from "../environments/index.js";
import { argumentsJsonSchema, isGymnasium, type Environment } from "../resources/environment.js";

export function describeAgentKinds(): string {
  const width = Math.max(...AGENT_KINDS.map((k) => k.name.length));
  return AGENT_KINDS.map((k) => `${k.name.padEnd(width)}  ${k.drives === "steps" ? "multi-turn" : "tools     "}  ${k.summary}`).join("\n");
}

export function describeEnvironments(envs: Record<string, Environment<any>> = environments): string {
  const lines: string[] = [];
  const width = Math.max(...Object.keys(envs).map((n) => n.length));
  for (const env of Object.values(envs).sort((a, b) => a.name.localeCompare(b.name))) {
    const kind = isGymnasium(env) ? "multi-turn" : "tools";
    lines.push(`${env.name.padEnd(width)}  ${kind.padEnd(10)}  ${env.description}`);
    for (const tool of env.tools) lines.push(`  ${tool.name}(${argumentList(argumentsJsonSchema(tool))})`);
    if (env.settings) lines.push(`  settings: ${argumentList(z.toJSONSchema(env.settings, { io: "input" }) as JsonObject)}`);
  }
  return lines.join("\n");
}

/** `city: string, count?: integer` from an object schema. */
function argumentList(schema: JsonObject): string {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return Object.entries(props)
    .map(([name, prop]) => `${name}${required.has(name) ? "" : "?"}: ${typeName(prop)}`)
    .join(", ");
}

function typeName(prop: JsonValue): string {
  if (!isObject(prop)) return "any";
  if (prop.type === "array") return `${typeName(prop.items ?? {})}[]`;
  if (Array.isArray(prop.enum)) return prop.enum.map((v) => JSON.stringify(v)).join(" | ");
  return typeof prop.type === "string" ? prop.type : Array.isArray(prop.type) ? prop.type.join(" | ") : "any";
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
