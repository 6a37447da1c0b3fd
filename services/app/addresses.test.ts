// The config's `addresses:` with replicas: a grpc:// DNS name, dns:///, a
// comma list or a YAML list of grpc:// URLs load (a list as one string);
// bad ones, and lists of http(s):// URLs, are refused naming the field.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { ConfigError } from "../mesh/errors.js";
import { AddressBook } from "./addresses.js";
import { loadConfig } from "./config.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-addresses-"));
let files = 0;

function configWith(addresses: string): string {
  const file = path.join(dir, `mesh-${files++}.yaml`);
  fs.writeFileSync(
    file,
    `instances:
  policy_model:
    kind: model
    base_url: http://127.0.0.1:1/v1
    model: m
  weather_agent:
    kind: agent
    model: policy_model
    resources: weather
  weather:
    kind: resources
    environment: example_single_tool_call
addresses:
${addresses}`,
  );
  return file;
}

describe("addresses of replicated peers", () => {
  it("loads a DNS name, dns:///, a comma list and a YAML list (kept as one comma-separated string)", () => {
    const config = loadConfig(
      configWith(`  weather: grpc://weather-0.weather:9090,weather-1.weather:9090
  weather_agent:
    - grpc://10.0.0.1:9090
    - grpc://[fd00::2]:9090
  policy_model: dns:///policy-model.gym.svc.cluster.local:9090
`),
      {},
    );
    expect(config.addresses).toEqual({
      weather: "grpc://weather-0.weather:9090,weather-1.weather:9090",
      weather_agent: "grpc://10.0.0.1:9090,[fd00::2]:9090",
      policy_model: "dns:///policy-model.gym.svc.cluster.local:9090",
    });
    expect(loadConfig(configWith("  weather: grpcs://weather:9090\n"), {}).addresses).toEqual({ weather: "grpcs://weather:9090" });
  });

  it.each([
    ["  weather: ftp://weather:9090\n", /addresses\.weather: must be an http\(s\):\/\/ or grpc:\/\/ URL \(grpcs:\/\/ with TLS\), dns:\/\/\/HOST:PORT, or several grpc:\/\/ endpoints/],
    ["  weather: http://weather-0:8080,weather-1:8080\n", /addresses\.weather: an http\(s\):\/\/ address names one server \(the main port, no balancing\)/],
    ["  weather:\n    - https://weather-0:8443\n    - https://weather-1:8443\n", /addresses\.weather: an http\(s\):\/\/ address names one server/],
    ["  weather: grpc://weather\n", /addresses\.weather: "weather": want HOST:PORT \(a port is needed\)/],
    ["  weather: grpc://fd00::1:9090\n", /addresses\.weather: .*an IPv6 address goes in brackets/],
    ["  weather:\n    - grpc://a:1\n    - grpcs://b:1\n", /addresses\.weather: mixes grpc:\/\/ and grpcs:\/\//],
    ["  weather: []\n", /addresses\.weather: an empty list/],
    ["  weather: dns://10.0.0.53/weather:9090\n", /addresses\.weather: dns:\/\/10\.0\.0\.53\/\.\.\.: a DNS server of its own is not supported/],
  ])("refuses %j, naming the field and why", (addresses, message) => {
    const file = configWith(addresses);
    expect(() => loadConfig(file, {})).toThrow(ConfigError);
    expect(() => loadConfig(file, {})).toThrow(message);
  });

  it("gives typed clients of a list, and refuses a list where one server's HTTP API is needed", () => {
    const book = new AddressBook({ weather: "grpc://127.0.0.1:1,127.0.0.1:2", bad: "http://127.0.0.1:1,127.0.0.1:2" });
    expect(book.peer(ResourcesService, "weather")).toBeDefined();
    expect(() => book.httpUrl("weather")).toThrow(/addresses\.weather: needs an http\(s\) URL here/);
    expect(() => book.peer(ResourcesService, "bad")).toThrow(/addresses\.bad: peer address .*an http\(s\):\/\/ address names one server/);
  });
});
