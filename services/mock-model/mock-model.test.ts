// The mock model's per-request knobs (the x-mock-knobs header), with the
// official SDK as the client.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setQuiet } from "../mesh/log.js";
import { startMock, type RunningMock } from "../../testing/model-kit.js";

setQuiet(true);

let upstream: RunningMock;
beforeAll(async () => {
  upstream = await startMock();
});
afterAll(async () => {
  await upstream?.server.close();
});

const client = (knobs?: string) =>
  new OpenAI({ baseURL: upstream.baseUrl, apiKey: "x", maxRetries: 0, defaultHeaders: knobs ? { "x-mock-knobs": knobs } : {} });

describe("x-mock-knobs", () => {
  it("overrides the instance's knobs for one request only", async () => {
    await expect(client('{"error_rate": 1, "error_status": 503}').responses.create({ model: "mock", input: "hi" })).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining("injected error"),
    });
    const thinking = await client('{"reasoning": "reasoning_content"}').chat.completions.create({ model: "mock", messages: [{ role: "user", content: "hi" }] });
    expect((thinking.choices[0]!.message as unknown as { reasoning_content: string }).reasoning_content).toBe("The user said: hi. I will answer.");
    const plain = await client().responses.create({ model: "mock", input: "hi" });
    expect(plain.output_text).toBe("Hello from the mock model.");
  });

  it("refuses unknown knobs and wrong types with 400", async () => {
    await expect(client('{"latency": 5}').responses.create({ model: "mock", input: "hi" })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('unknown knob "latency"'),
    });
    await expect(client('{"reasoning": "loud"}').responses.create({ model: "mock", input: "hi" })).rejects.toMatchObject({ status: 400 });
    await expect(client("not json").responses.create({ model: "mock", input: "hi" })).rejects.toMatchObject({ status: 400 });
  });
});
