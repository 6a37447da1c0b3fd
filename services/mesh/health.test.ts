import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { HealthStatus, ServingStatus, registerHealth } from "./health.js";

describe("grpc.health.v1.Health", () => {
  const health = new HealthStatus();
  const sessions = new Set<http2.ServerHttp2Session>();
  let server: http2.Http2Server;
  let client: Client<typeof Health>;

  beforeAll(async () => {
    health.set("gymmesh.v1.AgentService", ServingStatus.SERVING);
    server = http2.createServer(connectNodeAdapter({ routes: (router) => registerHealth(router, health) }));
    // server.close() waits for open sessions, so track them to close on teardown.
    server.on("session", (s) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    // connect-node's gRPC transport always speaks HTTP/2 (no httpVersion option in 2.1).
    client = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  });

  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("Check reports the server and known services", async () => {
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    expect((await client.check({ service: "gymmesh.v1.AgentService" })).status).toBe(ServingStatus.SERVING);
  });

  it("Check answers NOT_FOUND for an unknown service", async () => {
    const err = await client.check({ service: "no.such.Service" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it("List returns every status", async () => {
    const res = await client.list({});
    expect(Object.keys(res.statuses).sort()).toEqual(["", "gymmesh.v1.AgentService"]);
  });

  it("Watch sends the current status, then changes, until cancelled", async () => {
    const abort = new AbortController();
    const stream = client.watch({ service: "gymmesh.v1.RolloutService" }, { signal: abort.signal });
    const seen: ServingStatus[] = [];
    try {
      for await (const res of stream) {
        seen.push(res.status);
        if (seen.length === 1) health.set("gymmesh.v1.RolloutService", "NOT_SERVING");
        if (seen.length === 2) health.set("gymmesh.v1.RolloutService", ServingStatus.SERVING);
        if (seen.length === 3) abort.abort();
      }
    } catch (e) {
      expect(ConnectError.from(e).code).toBe(Code.Canceled);
    }
    expect(seen).toEqual([ServingStatus.SERVICE_UNKNOWN, ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
    // The server side must unsubscribe once the client goes away, or watchers leak.
    const listeners = (health as unknown as { listeners: Set<unknown> }).listeners;
    await expect.poll(() => listeners.size).toBe(0);
  });

  it("shutdown marks everything NOT_SERVING and ignores later sets", async () => {
    const local = new HealthStatus({ "": "SERVING", a: "SERVING" });
    local.shutdown();
    local.set("a", "SERVING");
    expect(local.entries()).toEqual([
      ["", ServingStatus.NOT_SERVING],
      ["a", ServingStatus.NOT_SERVING],
    ]);
  });
});
