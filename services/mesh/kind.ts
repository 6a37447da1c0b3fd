// The contract between the app layer and a kind of instance (model, agent...):
// a kind declares its config schema and how it starts, given a small context.
// The runtime knows the contract, never a kind: the app layer holds the list.
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { z } from "zod";
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
