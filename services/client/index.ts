// gym-mesh's TypeScript client, the package's entry (`import ... from "gym-mesh"`):
// createGymClient(url, options) and what its users need with it, the
// generated gymmesh.v1 messages and service descriptors. It loads no server:
// only the transports of services/mesh and the generated code.
export { createGymClient, type GymClient, type GymClientOptions, type RunOptions } from "./gym-client.js";
export type { CollectOptions } from "./collect.js";
export type { CollectResult, Failure, Row, RunResult, TaskOrRow } from "./rows.js";
export { BadUrlError, bearerToken, type Pem, type TlsOptions, type TransportOptions } from "./transport.js";
export { GymError, codeName } from "./errors.js";
export type { RetryOptions } from "./retry.js";

// The generated messages (`Rollout`, `Task`, ...), their schemas (`TaskSchema`
// for `create`) and the service descriptors (`AgentService`, ...).
export * from "../../gen/gymmesh/v1/agent_pb.js";
export * from "../../gen/gymmesh/v1/episode_pb.js";
export * from "../../gen/gymmesh/v1/model_pb.js";
export * from "../../gen/gymmesh/v1/resources_pb.js";
export * from "../../gen/gymmesh/v1/responses_pb.js";
export * from "../../gen/gymmesh/v1/rollout_pb.js";
export * from "../../gen/gymmesh/v1/task_pb.js";
export { StatusSchema, type Status } from "../../gen/google/rpc/status_pb.js";
export { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";

// So a user needs no other import for the usual work: building messages, JSON,
// codes and errors, and clients of any service on the same transport.
export { create, fromJson, fromJsonString, isMessage, toJson, toJsonString, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
export { Code, ConnectError, createClient, type CallOptions, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
