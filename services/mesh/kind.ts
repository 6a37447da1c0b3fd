// The contract between the app layer and a kind of instance (model, agent...):
// a kind declares its config schema and how it starts, given a small context.
// The runtime knows the contract, never a kind: the app layer holds the list.
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { z } from "zod";
import type { MeshSecurity } from "./auth.js";
import type { RunningServer } from "./serve.js";

/** What the app layer gives a kind when it starts an instance. */
export interface StartContext {
  /** The instance's name in the config. */
  name: string;
  /** Where its ports listen (0.0.0.0 in a container). */
  host: string;
  /** The main port (0: a free one). */
  port: number;
  /** The grpc-js port (0: a free one). */
  grpcPort: number;
  /** A typed client of another instance: in-process when it runs here, else over the network at its address. */
  peer<S extends DescService>(service: S, name: string): Client<S>;
  /** The main-port URL of another instance (`http://host:port`), for its HTTP APIs. */
  httpUrl(name: string): string;
  /** The names of every instance of a kind in the config, started here or not. */
  instancesOf(kind: string): string[];
  /** The config's `security:` (token, TLS): `serve({ ...ctx })` applies it to both ports. None: open, clear text. */
  security?: MeshSecurity;
  /** The instance's `limits:` (defaults filled in): `serve({ ...ctx })` applies them to both ports. */
  limits?: Limits;
}

/** Another instance an instance refers to by name: it must exist and be of one of these kinds. */
export interface Reference {
  /** The field holding the name, e.g. `model`. */
  field: string;
  name: string;
  kinds: string[];
}

/** Reads another instance's config by name (for checks across instances). */
export type ConfigLookup = (name: string) => { kind: string } | undefined;

export interface InstanceKind<Config extends { kind: string } = any> {
  /** The `kind:` value in the config. */
  kind: string;
  /** The instance's config, `kind` included; defaults applied by parsing. */
  schema: z.ZodType<Config>;
  /** What `gym serve` prints beside the instance: its gRPC service, or what it is. */
  label(config: Config): string;
  /** Instances it refers to by name, checked when the config loads. */
  references?(config: Config): Reference[];
  /**
   * Checks that need more than the schema (the instances it refers to, files):
   * throws a ConfigError naming the field. May complete the config (paths
   * resolved against the config file's folder).
   */
  check?(config: Config, at: { name: string; dir: string; lookup: ConfigLookup }): void;
  /** Starts one instance of this kind. */
  start(config: Config, ctx: StartContext): Promise<RunningServer>;
}

export function defineKind<Config extends { kind: string }>(kind: InstanceKind<Config>): InstanceKind<Config> {
  return kind;
}

/** The main port: gRPC, gRPC-Web, Connect and the instance's HTTP APIs (0 or absent: a free port). */
export const port = z.number().int().min(0).max(65535).optional();

/**
 * A second port serving the instance's services over plain gRPC (grpc-js), the
 * cheaper path for the mesh's own calls; peers reach it at `grpc://host:grpc_port`.
 * Absent: a free port (fine when the callers run in the same process).
 */
export const grpc_port = port;

/** A duration in seconds (fractions allowed): every duration in a config is in seconds, in a key ending `_s`. */
export const seconds = () => z.number().min(0);

/**
 * `limits:` of any instance, whatever its kind (the app layer reads it beside
 * the kind's own schema): bounds on what callers may send and hold, so that no
 * caller can exhaust the process. Defaults are gRPC's where gRPC has one.
 */
export const limits = z
  .strictObject({
    /**
     * The largest request message (gRPC, gRPC-Web and Connect, on both ports) or
     * HTTP body (NeMo Gym routes, the OpenAI face), counted after decompression:
     * a larger one is RESOURCE_EXHAUSTED (HTTP 413 on the HTTP routes). 4 MiB, as
     * gRPC. Answers are not bounded.
     */
    max_message_bytes: z.number().int().positive().default(4 * 1024 * 1024),
    /** JSON nested deeper than this (HTTP bodies, NeMo Gym rows in `row_json`) is INVALID_ARGUMENT (HTTP 400). */
    max_json_depth: z.number().int().min(2).default(64),
    /**
     * Connections open at once on each port; more are closed as they arrive.
     * Whatever this says, the servers of one process together stop accepting
     * before its open-file limit (they keep a tenth of it free), so one flooded
     * instance cannot make the others refuse connections.
     */
    max_connections: z.number().int().positive().default(10_000),
    /** A new connection that sends nothing for this long is closed (with TLS: nothing in its handshake, then nothing after it). */
    first_bytes_timeout_s: seconds().positive().default(10),
    /** An HTTP/1.1 request whose headers take longer than this to arrive gets 408 and its connection is closed. */
    headers_timeout_s: seconds().positive().default(30),
    /** An HTTP/2 connection (either port) with no call open for this long is closed with GOAWAY; clients reconnect when they need to. 0: never. */
    http2_idle_timeout_s: seconds().default(300),
    /** The server pings each HTTP/2 connection this often and closes it when no answer comes within keepalive_timeout_s, so dead peers do not hold calls and sockets. 0: no pings. */
    keepalive_time_s: seconds().default(300),
    keepalive_timeout_s: seconds().positive().default(20),
    /**
     * Keepalive enforcement (main port): a client that pings more often than
     * this, three times in a row with no new call in between, gets GOAWAY
     * ENHANCE_YOUR_CALM "too_many_pings" and its connection is closed, as gRPC
     * servers do. 0: any rate.
     */
    keepalive_min_interval_s: seconds().default(10),
    /**
     * SIGTERM: the instance reports NOT_SERVING, stops taking new calls (an
     * open Collect stream stops reading tasks and ends with UNAVAILABLE once
     * its rollouts in flight are answered) and gives in-flight calls this long
     * before cutting them: below Kubernetes' 30 s grace period by default.
     */
    drain_timeout_s: seconds().default(20),
  })
  .prefault({});
export type Limits = z.infer<typeof limits>;

/** What an instance with no `limits:` gets. */
export const DEFAULT_LIMITS: Limits = limits.parse(undefined);
