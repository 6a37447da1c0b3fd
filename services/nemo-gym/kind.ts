// The `nemo_gym_resources` kind: a NeMo Gym (Python) resources server reached
// over its HTTP API, served here as a ResourcesService.
import { z } from "zod";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { defineKind, grpc_port, port } from "../mesh/kind.js";
import { hosted, serve } from "../mesh/serve.js";
import { createRemoteResourcesService } from "./remote-resources.js";

export const NemoGymResourcesConfig = z.strictObject({
  kind: z.literal("nemo_gym_resources"),
  port,
  grpc_port,
  /** The NeMo Gym server's base URL (`http://host:port`). */
  base_url: z.string().regex(/^https?:\/\//, "must be an http(s) URL"),
});
export type NemoGymResourcesConfig = z.infer<typeof NemoGymResourcesConfig>;

export const nemoGymResourcesKind = defineKind<NemoGymResourcesConfig>({
  kind: "nemo_gym_resources",
  schema: NemoGymResourcesConfig,
  label: () => ResourcesService.typeName,
  start: (c, ctx) => serve({ ...ctx, services: [hosted(ResourcesService, createRemoteResourcesService(c.base_url, ctx.name))] }),
});
