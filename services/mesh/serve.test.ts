import * as net from "node:net";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { clientFor } from "./clients.js";
import { setQuiet } from "./log.js";
import { ServingStatus } from "./health.js";
import { hosted, serve } from "./serve.js";

setQuiet(true);

/** A resources service whose CallTool waits until released. */
function slowResources() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const started = new Promise<void>((r) => (entered = r));
  const impl = {
    async callTool() {
      entered();
      await released;
      return { output: "done" };
    },
  };
  return { impl, release, started };
}

describe("serve", () => {
  it("drains in-flight calls on close, refuses new connections, then stops", async () => {
    const slow = slowResources();
    const server = await serve({ name: "slow", services: [hosted(ResourcesService, slow.impl)] });
    const client = clientFor(ResourcesService, server.url);
    const call = client.callTool({ name: "t" });
    await slow.started;

    const closed = server.close();
    let closedYet = false;
    void closed.then(() => (closedYet = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closedYet).toBe(false); // still waiting for the call
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(server.port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(false)));
      s.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);

    slow.release();
    expect((await call).output).toBe("done");
    await closed;
  });

  it("cuts calls that outlive the drain timeout", async () => {
    const slow = slowResources();
    const server = await serve({ name: "stuck", services: [hosted(ResourcesService, slow.impl)], drainTimeoutMs: 100 });
    const call = clientFor(ResourcesService, server.url).callTool({ name: "t" });
    await slow.started;
    await server.close();
    await expect(call).rejects.toMatchObject({ code: expect.any(Number) });
    slow.release();
  });

  it("answers unimplemented RPCs with UNIMPLEMENTED and health with SERVING", async () => {
    const server = await serve({ name: "partial", services: [hosted(ResourcesService, {})] });
    const client = clientFor(ResourcesService, server.url);
    await expect(client.listTools({})).rejects.toMatchObject({ code: Code.Unimplemented });
    expect(server.health.get(ResourcesService.typeName)).toBe(ServingStatus.SERVING);
    await server.close();
  });
});

describe("metrics", () => {
  it("serves Prometheus metrics on GET /metrics: requests and errors per RPC, latency", async () => {
    const server = await serve({ name: "counted", services: [hosted(ResourcesService, { listTools: () => ({ tools: [] }) })] });
    const client = clientFor(ResourcesService, server.url);
    await client.listTools({});
    await client.listTools({});
    await expect(client.verify({})).rejects.toMatchObject({ code: Code.Unimplemented });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/gym_rpc_requests_total\{service="gymmesh.v1.ResourcesService",method="ListTools",code="ok",instance="counted"\} 2/);
    expect(text).toMatch(/gym_rpc_requests_total\{service="gymmesh.v1.ResourcesService",method="Verify",code="unimplemented",instance="counted"\} 1/);
    expect(text).toMatch(/gym_rpc_duration_seconds_count\{instance="counted",service="gymmesh.v1.ResourcesService",method="ListTools"\} 2/);
    expect(text).toContain("gym_rollouts_in_flight");
    expect(text).toContain("gym_sessions_open");
    await server.close();
  });
});
