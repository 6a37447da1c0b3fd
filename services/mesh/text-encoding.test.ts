// A leading byte-order mark survives the wire, on every transport, as it does
// in NeMo Gym's Python (where json.loads then rejects it).
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { ResponseSchema } from "../../gen/gymmesh/v1/responses_pb.js";
import structuredOutputs from "../environments/structured_outputs/environment.js";
import { responseFromJson, taskFromJson } from "../openai/responses-json.js";
import { createResourcesService } from "../resources/host.js";
import { clientFor } from "./clients.js";
import { setQuiet } from "./log.js";
import { hosted, serve, type RunningServer } from "./serve.js";

setQuiet(true);
const BOM_JSON = '\ufeff{"name": "Ada"}';
const answer = responseFromJson({
  id: "r",
  output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: BOM_JSON, annotations: [] }] }],
});

describe("a leading U+FEFF", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve({ name: "bom", grpcPort: 0, services: [hosted(ResourcesService, createResourcesService(structuredOutputs))] });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("survives a binary round trip", () => {
    const back = fromBinary(ResponseSchema, toBinary(ResponseSchema, answer));
    const item = back.output[0]!.kind;
    expect(item.case === "message" && item.value.content.case === "parts" && item.value.content.value.parts[0]!.kind.value).toMatchObject({ text: BOM_JSON });
  });

  it("reaches the verifier over the main port and the grpc-js port: NeMo Gym's json.loads rejects it, so reward 0", async () => {
    const row = {
      responses_create_params: { input: "Give the name as JSON." },
      schema_str: JSON.stringify({ type: "object", properties: { name: { type: "string" } }, required: ["name"] }),
      schema_type: "json",
    };
    const plain = responseFromJson({
      id: "r",
      output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: '{"name": "Ada"}', annotations: [] }] }],
    });
    for (const url of [server.url, server.grpcUrl!]) {
      const client = clientFor(ResourcesService, url);
      expect((await client.verify({ task: taskFromJson(row), response: plain })).verdict?.reward, url).toBe(1);
      expect((await client.verify({ task: taskFromJson(row), response: answer })).verdict?.reward, url).toBe(0);
    }
  });
});

describe("the UTF-8 encoder messages use", () => {
  it("gives TextEncoder's bytes, a leading U+FEFF and lone surrogates (U+FFFD) included", () => {
    const texts = ["", "plain", "\ufeff{\"a\": 1}", "a\ud800b", "\udc00", "x\ud83d", "\u{1F600} ünï", "\0\u0080\u07ff\u0800\uffff", "long ".repeat(2_000)];
    for (const text of texts) {
      expect(Buffer.from(getTextEncoding().encodeUtf8(text)).equals(Buffer.from(new TextEncoder().encode(text))), JSON.stringify(text)).toBe(true);
      const answer = responseFromJson({ id: text, output: [] });
      const bytes = toBinary(ResponseSchema, answer);
      const id = new TextEncoder().encode(text);
      // Field 1 (id): tag, length, then the string's bytes.
      expect(Buffer.from(bytes).includes(Buffer.from(id)), JSON.stringify(text)).toBe(true);
      expect(fromBinary(ResponseSchema, bytes).id).toBe(new TextDecoder("utf-8", { ignoreBOM: true }).decode(id));
    }
  });
});
