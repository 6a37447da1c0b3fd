// Peer addresses (mesh/peer-address.ts) and the session pins of sticky
// sessions (mesh/sticky-sessions.ts): what is accepted, what is refused and
// why, and which methods seed or continue a session.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { clientFor } from "./clients.js";
import { ConfigError } from "./errors.js";
import { formatPeerAddress, parsePeerAddress } from "./peer-address.js";
import { pinSession, sessionRole, unpinSession } from "./sticky-sessions.js";

describe("peer addresses", () => {
  it("reads one URL, a DNS name, a comma list and a YAML list", () => {
    expect(parsePeerAddress("http://mcqa:8080")).toEqual({ kind: "http", url: "http://mcqa:8080" });
    expect(parsePeerAddress("grpc://mcqa:9090")).toEqual({ kind: "grpc", tls: false, endpoints: [{ host: "mcqa", port: 9090 }] });
    expect(parsePeerAddress("dns:///mcqa.gym.svc.cluster.local:9090")).toEqual({
      kind: "grpc",
      tls: false,
      endpoints: [{ host: "mcqa.gym.svc.cluster.local", port: 9090 }],
    });
    expect(parsePeerAddress("grpcs://10.0.0.1:9090, 10.0.0.2:9090,grpcs://[fd00::3]:9090/")).toEqual({
      kind: "grpc",
      tls: true,
      endpoints: [
        { host: "10.0.0.1", port: 9090 },
        { host: "10.0.0.2", port: 9090 },
        { host: "fd00::3", port: 9090 },
      ],
    });
    const list = parsePeerAddress(["grpc://mcqa-0.mcqa:9090", "grpc://mcqa-1.mcqa:9090", "dns:///mcqa-2.mcqa:9090", "grpc://mcqa-0.mcqa:9090"]);
    expect(formatPeerAddress(list)).toBe("grpc://mcqa-0.mcqa:9090,mcqa-1.mcqa:9090,mcqa-2.mcqa:9090");
    expect(formatPeerAddress(parsePeerAddress("grpcs://[::1]:1"))).toBe("grpcs://[::1]:1");
  });

  it.each([
    ["ftp://x:1", /^must be an http\(s\):\/\/ or grpc:\/\/ URL \(grpcs:\/\/ with TLS\)/],
    [42, /^must be an http\(s\):\/\/ or grpc:\/\/ URL/],
    [[], /an empty list/],
    [["grpc://a:1", 2], /\[1\]: not a string/],
    ["grpc://mcqa", /"mcqa": want HOST:PORT \(a port is needed\)/],
    ["grpc://a:1,", /an empty entry/],
    ["grpc://::1:9090", /an IPv6 address goes in brackets: \[::1\]:9090/],
    ["grpc://[mcqa]:9090", /only an IPv6 address goes in brackets/],
    ["grpc://a:70000", /the port must be 1 to 65535/],
    ["grpc://a b:1", /want HOST:PORT/],
    ["grpc://a:1,grpcs://b:1", /mixes grpc:\/\/ and grpcs:\/\//],
    [["grpc://a:1", "grpcs://b:1"], /mixes grpc:\/\/ and grpcs:\/\//],
    ["dns://8.8.8.8/mcqa:9090", /a DNS server of its own is not supported; write dns:\/\/\/HOST:PORT/],
    ["http://a:8080,b:8080", /an http\(s\):\/\/ address names one server .*give the replicas' grpc:\/\/ addresses/],
    [["https://a:8443", "https://b:8443"], /an http\(s\):\/\/ address names one server/],
    [["grpc://a:1", "http://b:8080"], /an http\(s\):\/\/ address names one server/],
  ])("refuses %j with a reason", (address, reason) => {
    expect(() => parsePeerAddress(address)).toThrow(ConfigError);
    expect(() => parsePeerAddress(address)).toThrow(reason);
  });

  it("refuses an http list when a client is asked for one, naming the address", () => {
    expect(() => clientFor(ResourcesService, "http://127.0.0.1:1,127.0.0.1:2")).toThrow(ConfigError);
    expect(() => clientFor(ResourcesService, "http://127.0.0.1:1,127.0.0.1:2")).toThrow(/peer address "http:\/\/127.0.0.1:1,127.0.0.1:2": an http\(s\):\/\/ address names one server/);
  });
});

describe("sticky sessions", () => {
  it("knows by the messages which calls seed a session and which continue one", () => {
    const role = (method: Parameters<typeof sessionRole>[0]) => {
      const r = sessionRole(method);
      return r && `${r.kind} ${r.field.name}`;
    };
    const m = ResourcesService.method;
    expect([m.seedSession, m.listTools, m.callTool, m.verify, m.closeSession].map(role)).toEqual([
      "seeds session_id",
      undefined,
      "continues session_id",
      "continues session_id",
      "continues session_id",
    ]);
    const e = EpisodeService.method;
    expect([e.reset, e.step, e.closeEpisode].map(role)).toEqual(["seeds episode_id", "continues episode_id", "continues episode_id"]);
    // Nothing else of the API carries a session.
    for (const service of [AgentService, ModelService, RolloutService]) for (const method of service.methods) expect(role(method)).toBeUndefined();
  });

  it("pins an id to an address and back, whatever the id holds", () => {
    for (const id of ["3f1c-uuid", "", "user@example.com", "a@b@c"]) {
      for (const address of ["10.0.0.7:9090", "[fd00::7]:9090", "[::1]:1"]) {
        expect(unpinSession(pinSession(id, address))).toEqual({ id, address });
      }
    }
    // No pin: an id is not taken apart unless it ends with @IP:PORT.
    for (const id of ["3f1c-uuid", "user@example.com", "x@host:9090", "x@10.0.0.1", "x@::1:9090", "x@[10.0.0.1]:1", "x@10.0.0.1:9090:1"]) {
      expect(unpinSession(id)).toBeUndefined();
    }
  });

  it("reports a replica that cannot be reached as UNAVAILABLE, naming it", async () => {
    // Nothing listens there: the pinned call fails at once (no waiting for ready, whatever its deadline).
    const client = clientFor(ResourcesService, "grpc://127.0.0.1:1,127.0.0.1:2");
    const err = await client.callTool({ sessionId: pinSession("s", "127.0.0.1:2"), name: "x" }, { timeoutMs: 20_000 }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.Unavailable });
    expect((err as ConnectError).rawMessage).toMatch(/^the replica of 127\.0\.0\.1:1,127\.0\.0\.1:2 at 127\.0\.0\.1:2 that holds this session is unavailable/);
  });
});
