// The mesh's own transports between instances: the grpc-js port with the
// grpc:// client transport, and the in-process transport for instances started
// together. Both give the typed clients the codes, deadlines, cancellation,
// streams and metrics of the main (connect) port.
import { create } from "@bufbuild/protobuf";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { AgentService, RunStreamResponseSchema } from "../../gen/gymmesh/v1/agent_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { clientFor } from "./clients.js";
import { setQuiet } from "./log.js";
import { hosted, serve, type RunningServer } from "./serve.js";

setQuiet(true);

/** What the test service saw of its calls. */
const seen = { aborted: [] as string[], timeoutMs: [] as (number | undefined)[], produced: 0 };
let entered: (() => void) | undefined;

const resources = hosted(ResourcesService, {
  async callTool(req, ctx) {
    seen.timeoutMs.push(ctx.timeoutMs());
    switch (req.name) {
      case "echo":
        return { output: `${req.name}:${req.arguments}` };
      case "mutate":
        req.arguments = "changed by the handler";
        return { output: "" };
      case "headers":
        ctx.responseHeader.set("x-seen", ctx.requestHeader.get("x-asked") ?? "none");
        ctx.responseTrailer.set("x-done", "yes");
        return { output: "" };
      case "invalid":
        throw new ConnectError(`tool "${req.name}": arguments must be an object`, Code.InvalidArgument);
      case "crash":
        throw new Error("boom");
      case "wait":
        entered?.();
        // Until the caller cancels or its deadline passes.
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
        seen.aborted.push(ConnectError.from(ctx.signal.reason).code === Code.DeadlineExceeded ? "deadline" : "cancel");
        return { output: "too late" };
      default:
        throw new ConnectError(`no tool ${req.name}`, Code.NotFound);
    }
  },
});

/** A RunStream that produces 20,000 items of 1 KB as fast as the transport takes them. */
const agent = hosted(AgentService, {
  async *runStream() {
    for (let i = 0; i < 20_000; i++) {
      seen.produced++;
      yield create(RunStreamResponseSchema, { event: { case: "item", value: { item: { case: "message", value: { role: "assistant", content: { case: "text", value: "x".repeat(1_024) } } } } } } as never);
    }
  },
});

const transports: [string, <S extends DescService>(service: S, server: RunningServer) => Client<S>][] = [
  ["the grpc-js port", (service, server) => clientFor(service, server.grpcUrl!)],
  ["the in-process transport", (service, server) => createClient(service, server.localTransport)],
];

describe.each(transports)("%s", (_, clientOf) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve({ name: "fast", services: [resources, agent], grpcPort: 0 });
  });
  afterAll(() => server.close());

  it("copies messages: the handler's changes to a request stay on its side", async () => {
    const req = { name: "mutate", arguments: "mine" };
    await clientOf(ResourcesService, server).callTool(req);
    expect(req.arguments).toBe("mine");
  });

  it("answers unary calls with the typed client", async () => {
    const client = clientOf(ResourcesService, server);
    const res = await client.callTool({ name: "echo", arguments: '{"city":"sf"}' });
    expect(res.output).toBe('echo:{"city":"sf"}');
    expect(seen.timeoutMs.at(-1)).toBeUndefined(); // no deadline given, none seen
  });

  it("carries request headers to the handler and its response headers and trailers back", async () => {
    const client = clientOf(ResourcesService, server);
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    await client.callTool({ name: "headers" }, { headers: { "x-asked": "sf" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    expect(header?.get("x-seen")).toBe("sf");
    expect(trailer?.get("x-done")).toBe("yes");
  });

  it("keeps the code and message of an error, and reports a crash as UNKNOWN", async () => {
    const client = clientOf(ResourcesService, server);
    await expect(client.callTool({ name: "invalid" })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: 'tool "invalid": arguments must be an object',
    });
    await expect(client.callTool({ name: "nope" })).rejects.toMatchObject({ code: Code.NotFound, rawMessage: "no tool nope" });
    await expect(client.callTool({ name: "crash" })).rejects.toMatchObject({ code: Code.Unknown, rawMessage: "boom" });
  });

  it("answers UNIMPLEMENTED for a method the service leaves out", async () => {
    await expect(clientOf(ResourcesService, server).verify({})).rejects.toMatchObject({ code: Code.Unimplemented });
  });

  it("carries the caller's deadline to the handler, which sees it pass", async () => {
    const client = clientOf(ResourcesService, server);
    const deadlinesBefore = seen.aborted.filter((a) => a === "deadline").length;
    await expect(client.callTool({ name: "wait" }, { timeoutMs: 200 })).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    await expect.poll(() => seen.aborted.filter((a) => a === "deadline").length).toBe(deadlinesBefore + 1);
    const left = seen.timeoutMs.at(-1)!;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(200);
  });

  it("carries a cancellation to the handler", async () => {
    const client = clientOf(ResourcesService, server);
    const cancelsBefore = seen.aborted.filter((a) => a === "cancel").length;
    const abort = new AbortController();
    const started = new Promise<void>((resolve) => (entered = resolve));
    const call = client.callTool({ name: "wait" }, { signal: abort.signal });
    await started;
    abort.abort();
    await expect(call).rejects.toMatchObject({ code: Code.Canceled });
    await expect.poll(() => seen.aborted.filter((a) => a === "cancel").length).toBe(cancelsBefore + 1);
  });

  it("serves health and reflection (a bidirectional stream) like the main port", async () => {
    const health = clientOf(Health, server);
    expect((await health.check({ service: ResourcesService.typeName })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    await expect(health.check({ service: "nope.Service" })).rejects.toMatchObject({ code: Code.NotFound });

    const reflection = clientOf(ServerReflection, server);
    async function* asks() {
      yield { messageRequest: { case: "listServices" as const, value: "" } };
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: ResourcesService.typeName } };
    }
    const answers = [];
    for await (const answer of reflection.serverReflectionInfo(asks())) answers.push(answer.messageResponse.case);
    expect(answers).toEqual(["listServicesResponse", "fileDescriptorResponse"]);
  });

  it("stops a server stream's producer while the caller does not read (flow control)", async () => {
    seen.produced = 0;
    const stream = clientOf(AgentService, server).runStream({})[Symbol.asyncIterator]();
    expect((await stream.next()).done).toBe(false);
    // Node's HTTP/2 streams buffer about 10 MB (as on the main port); then the producer waits.
    let stalled = -1;
    for (let i = 0; i < 20 && seen.produced !== stalled; i++) {
      stalled = seen.produced;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(seen.produced).toBe(stalled);
    expect(stalled).toBeLessThan(15_000);
    let read = 1;
    for (let r = await stream.next(); !r.done; r = await stream.next()) read++;
    expect(read).toBe(20_000);
  });

  it("counts its calls in the instance's /metrics, by code", async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/gym_rpc_requests_total\{service="gymmesh.v1.ResourcesService",method="CallTool",code="ok",instance="fast"\} [1-9]/);
    expect(text).toMatch(/gym_rpc_requests_total\{service="gymmesh.v1.ResourcesService",method="CallTool",code="invalid_argument",instance="fast"\} 1/);
    expect(text).toMatch(/gym_rpc_requests_total\{service="gymmesh.v1.ResourcesService",method="CallTool",code="deadline_exceeded",instance="fast"\} 1/);
    expect(text).toMatch(/gym_rpc_requests_total\{service="gymmesh.v1.ResourcesService",method="CallTool",code="canceled",instance="fast"\} 1/);
  });

});

describe("the grpc-js port", () => {
  it("is announced as a grpc:// URL beside the main one", async () => {
    const server = await serve({ name: "fast", services: [resources], grpcPort: 0 });
    expect(server.grpcUrl).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+$/);
    expect(server.grpcUrl).not.toBe(server.url.replace("http", "grpc"));
    await server.close();
  });

  it("answers UNAVAILABLE when nothing listens at the address", async () => {
    const closed = await serve({ name: "gone", services: [resources], grpcPort: 0 });
    const url = closed.grpcUrl!;
    await closed.close();
    await expect(clientFor(ResourcesService, url).callTool({ name: "echo" })).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("reaches a peer again once it is back on its port (a restart)", async () => {
    const first = await serve({ name: "peer", services: [resources], grpcPort: 0 });
    const port = Number(first.grpcUrl!.split(":").at(-1));
    const client = clientFor(ResourcesService, first.grpcUrl!);
    expect((await client.callTool({ name: "echo", arguments: "1" })).output).toBe("echo:1");
    await first.close();
    await expect(client.callTool({ name: "echo" })).rejects.toMatchObject({ code: Code.Unavailable });
    const again = await serve({ name: "peer", services: [resources], grpcPort: port });
    // The channel reconnects within its short backoff (at most 2 s), not minutes.
    await expect.poll(() => client.callTool({ name: "echo", arguments: "2" }).then((r) => r.output, () => "down"), { timeout: 5_000, interval: 100 }).toBe("echo:2");
    await again.close();
  });

  it("waits for a restarting peer within the call's deadline (wait-for-ready), and no longer", async () => {
    const first = await serve({ name: "peer", services: [resources], grpcPort: 0 });
    const port = Number(first.grpcUrl!.split(":").at(-1));
    const client = clientFor(ResourcesService, first.grpcUrl!);
    expect((await client.callTool({ name: "echo", arguments: "1" })).output).toBe("echo:1");
    await first.close();
    // Sent while nothing listens: it waits, and is answered once the peer is back.
    const waiting = client.callTool({ name: "echo", arguments: "2" }, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const again = await serve({ name: "peer", services: [resources], grpcPort: port });
    expect((await waiting).output).toBe("echo:2");
    await again.close();
    // A peer that does not come back: DEADLINE_EXCEEDED at the deadline, not UNAVAILABLE at once.
    await expect(client.callTool({ name: "echo" }, { timeoutMs: 300 })).rejects.toMatchObject({ code: Code.DeadlineExceeded });
  });

  it("lets calls in flight finish when the server closes", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inside = new Promise<void>((r) => (started = r));
    const slow = await serve({
      name: "slow",
      grpcPort: 0,
      services: [hosted(ResourcesService, { callTool: async () => (started(), await released, { output: "done" }) })],
    });
    const call = clientFor(ResourcesService, slow.grpcUrl!).callTool({ name: "t" });
    await inside;
    const closed = slow.close();
    release();
    expect((await call).output).toBe("done");
    await closed;
  });
});
