import { execFile } from "node:child_process";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { HealthStatus, registerHealth } from "./health.js";
import { registerReflection } from "./reflection.js";

const BUF = path.resolve(import.meta.dirname, "../../node_modules/.bin/buf");
const gymServices = [AgentService, ModelService, ResourcesService, RolloutService];

/** Runs the real buf binary; async so the in-process server keeps answering meanwhile. */
function bufCurl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BUF, ["curl", "--http2-prior-knowledge", ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe("grpc reflection", () => {
  const sessions = new Set<http2.ServerHttp2Session>();
  let server: http2.Http2Server;
  let url: string;

  beforeAll(async () => {
    server = http2.createServer(
      connectNodeAdapter({
        routes: (router) => {
          registerHealth(router, new HealthStatus());
          registerReflection(router, gymServices); // gym services themselves stay unimplemented
        },
      }),
    );
    server.on("session", (s) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("buf curl --list-methods lists the gym methods (v1, default protocol)", async () => {
    const { code, stdout, stderr } = await bufCurl("--list-methods", url);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const methods = stdout.trim().split("\n");
    expect(methods).toContain("gymmesh.v1.AgentService/Run");
    expect(methods).toContain("grpc.health.v1.Health/Check");
    expect(methods).toContain("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
    for (const s of gymServices) {
      for (const m of s.methods) expect(methods).toContain(`${s.typeName}/${m.name}`);
    }
  });

  it("buf curl works over the gRPC protocol with v1alpha reflection", async () => {
    const { code, stdout } = await bufCurl("--protocol", "grpc", "--reflect-protocol", "grpc-v1alpha", "--list-methods", url);
    expect(code).toBe(0);
    expect(stdout).toContain("gymmesh.v1.ModelService/");
  });

  it("buf curl calls Health/Check through reflection", async () => {
    const { code, stdout } = await bufCurl("--protocol", "grpc", "-d", "{}", `${url}/grpc.health.v1.Health/Check`);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });

  it("buf curl resolves a request whose file imports well-known types (transitive deps are sent)", async () => {
    for (const reflect of ["grpc-v1", "grpc-v1alpha"]) {
      const { code, stderr } = await bufCurl(
        "--protocol", "grpc", "--reflect-protocol", reflect,
        "-d", '{"task":{"extraJson":"{\\"a\\": 1}"}}', `${url}/gymmesh.v1.AgentService/Run`,
      );
      // Schema resolution succeeded: the call reached the server and got Unimplemented (12).
      expect(stderr).toContain('"unimplemented"');
      expect(code).toBe(12 * 8); // buf curl exit code = gRPC code * 8
    }
  });

  it("answers file, symbol, extension and error requests", async () => {
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: url })); // always HTTP/2
    type Req = MessageInitShape<typeof ServerReflectionRequestSchema>["messageRequest"];
    async function* requests(...reqs: Req[]) {
      for (const messageRequest of reqs) yield { messageRequest };
    }
    const responses: ServerReflectionResponse["messageResponse"][] = [];
    for await (const res of client.serverReflectionInfo(
      requests(
        { case: "fileContainingSymbol", value: "gymmesh.v1.RunRequest.task" },
        { case: "fileByFilename", value: "google/protobuf/duration.proto" },
        { case: "fileContainingSymbol", value: "gymmesh.v1.Nope" },
        { case: "fileByFilename", value: "nope.proto" },
        { case: "allExtensionNumbersOfType", value: "gymmesh.v1.RunRequest" },
        { case: "fileContainingExtension", value: { containingType: "gymmesh.v1.RunRequest", extensionNumber: 100 } },
      ),
    )) {
      responses.push(res.messageResponse);
    }
    const fileNames = (r: (typeof responses)[number]) =>
      r.case === "fileDescriptorResponse"
        ? r.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name)
        : [String(r.case)];

    const symbolFiles = fileNames(responses[0]);
    expect(symbolFiles[0]).toBe("gymmesh/v1/agent.proto"); // the requested file comes first
    expect(symbolFiles).toContain("google/protobuf/duration.proto");
    expect(new Set(symbolFiles).size).toBe(symbolFiles.length);
    expect(fileNames(responses[1])).toEqual(["google/protobuf/duration.proto"]);
    for (const r of [responses[2], responses[3], responses[5]]) {
      expect(r.case).toBe("errorResponse");
      expect(r.case === "errorResponse" && r.value.errorCode).toBe(5);
    }
    expect(responses[4]).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "gymmesh.v1.RunRequest", extensionNumber: [] },
    });
  });
});
