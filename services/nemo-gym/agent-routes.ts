// NeMo Gym's HTTP face of an agent: `POST /run` takes a dataset row (plus
// NeMo Gym's `_ng_*` fields and `agent_ref`) and answers with the verified
// rollout: the row, `response`, `reward` and the verifier's fields.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { JsonShapeError, responseToJson, taskFromJson, verdictFields } from "../openai/responses-json.js";
import { HttpError, httpErrorOf, readJson, route, sendJson, type Req, type Res } from "./http-json.js";

export function nemoGymAgentRoutes(agent: Client<typeof AgentService>) {
  return route(async (req: Req, res: Res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "POST" || path !== "/run") throw new HttpError(404, "Not Found");
    const body = await readJson(req);
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(422, "body must be a JSON object");
    const row = body as JsonObject;
    let task;
    try {
      task = taskFromJson(row);
    } catch (err) {
      if (err instanceof JsonShapeError) throw new HttpError(422, err.message);
      throw err;
    }
    try {
      const { rollout } = await agent.run({ input: { case: "task", value: task } });
      sendJson(res, 200, {
        ...row,
        response: rollout?.response ? responseToJson(rollout.response) : null,
        reward: rollout?.verdict?.reward ?? 0,
        ...verdictFields(rollout?.verdict),
      });
    } catch (err) {
      throw httpErrorOf(err);
    }
  });
}
