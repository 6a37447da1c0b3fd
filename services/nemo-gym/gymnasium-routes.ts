// NeMo Gym's HTTP face of a multi-turn (gymnasium) environment, as NeMo Gym
// 0.7.0's GymnasiumServer (resources_servers/gymnasium) serves it, so NeMo
// Gym's own gymnasium_agent can drive ours:
//
//   POST /reset  {responses_create_params, ...row}            -> {observation, info}
//   POST /step   {responses_create_params, ...row, response}  -> {observation, reward, terminated, truncated, info}
//
// The episode is kept in a cookie, as NeMo Gym's session is. A /reset first
// drops the episode the cookie names (0.7.0's reset clears its session's
// state), then starts a fresh one. A /step goes to the cookie's episode; with
// no cookie, or one naming an episode that is gone (ended, dropped), it
// starts a fresh episode for the row first, as 0.7.0 finds an empty state for
// an unknown session. A step that terminates or truncates ends the episode
// (closed by the host). There is no /verify: the reward comes from /step.
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import type { Task } from "../../gen/gymmesh/v1/task_pb.js";
import { JsonShapeError, jsonObjectOf, responseFromJson, taskFromJson } from "../openai/responses-json.js";
import { cookies, HttpError, httpErrorOf, readJson, route, sendJson, type Req, type Res } from "./http-json.js";

export function nemoGymGymnasiumRoutes(episodes: Client<typeof EpisodeService>, instance: string) {
  const cookieName = `gym_episode_${instance}`;
  const setCookie = (episodeId: string) => ({ "set-cookie": `${cookieName}=${encodeURIComponent(episodeId)}; Path=/; HttpOnly; SameSite=Lax` });

  const reset = async (task: Task) => {
    const r = await episodes.reset({ task });
    return { episodeId: r.episodeId, reply: { observation: r.observation ?? null, info: jsonObjectOf(r.infoJson, "info_json") } };
  };

  return route(async (req: Req, res: Res) => {
    const path = (req.url ?? "/").split("?")[0]!.replace(/^\/+/, "");
    if (req.method !== "POST" || (path !== "reset" && path !== "step")) throw new HttpError(404, "Not Found");
    const body = await readJson(req);
    try {
      const row = asObject(body);
      const known = cookies(req).get(cookieName);
      if (path === "reset") {
        const task = taskFromJson(row);
        // The session's previous episode, if any, is dropped first.
        if (known) await episodes.closeEpisode({ episodeId: known });
        const { episodeId, reply } = await reset(task);
        return sendJson(res, 200, reply, setCookie(episodeId));
      }
      const { response: responseJson, ...rest } = row;
      if (responseJson === undefined) throw new HttpError(422, "response: Field required");
      const task = taskFromJson(rest);
      const response = responseFromJson(responseJson, "response");
      let episodeId = known;
      let fresh = false;
      const step = async () => {
        if (!episodeId) {
          episodeId = (await reset(task)).episodeId;
          fresh = true;
        }
        return episodes.step({ episodeId, task, response });
      };
      let s;
      try {
        try {
          s = await step();
        } catch (err) {
          // The cookie's episode is gone: as NeMo Gym, go on from a fresh state.
          if (fresh || ConnectError.from(err).code !== Code.Aborted) throw err;
          episodeId = undefined;
          s = await step();
        }
      } catch (err) {
        // An episode started for this step alone is not left behind when the step fails.
        if (fresh && episodeId) await episodes.closeEpisode({ episodeId }).catch(() => undefined);
        throw err;
      }
      const reply = {
        observation: s.observation ?? null,
        reward: s.reward,
        terminated: s.terminated,
        truncated: s.truncated,
        info: jsonObjectOf(s.infoJson, "info_json"),
      };
      return sendJson(res, 200, reply, fresh && episodeId ? setCookie(episodeId) : {});
    } catch (err) {
      if (err instanceof JsonShapeError) throw new HttpError(422, err.message);
      if (err instanceof HttpError) throw err;
      throw httpErrorOf(err);
    }
  });
}

function asObject(body: unknown): JsonObject {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(422, "body must be a JSON object");
  return body as JsonObject;
}
