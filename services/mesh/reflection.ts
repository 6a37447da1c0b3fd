// gRPC server reflection (grpc.reflection.v1 and v1alpha) for connect-node routers,
// so that `buf curl`, grpcurl and grpcui can discover and call our services.
// Spec: https://github.com/grpc/grpc/blob/master/doc/server-reflection.md
import { create, fromBinary, toBinary, type DescFile, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** Indexes of everything reachable from the served services' files. */
class Index {
  readonly services: string[];
  readonly files = new Map<string, DescFile>(); // by file name, e.g. "gymmesh/v1/agent.proto"
  readonly symbols = new Map<string, DescFile>(); // fully-qualified name -> declaring file
  readonly extensions = new Map<string, Map<number, DescFile>>(); // extendee -> number -> file
  readonly messages = new Set<string>(); // message names, for all_extension_numbers_of_type
  private readonly serialized = new Map<DescFile, Uint8Array>();

  constructor(services: DescService[]) {
    this.services = [...new Set(services.map((s) => s.typeName))].sort();
    for (const s of services) this.addFile(s.file);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    // nestedTypes walks messages, enums, extensions and services, including nested ones.
    for (const t of nestedTypes(file)) {
      this.symbols.set(t.typeName, file);
      switch (t.kind) {
        case "message":
          this.messages.add(t.typeName);
          // Fields and oneofs are symbols too; clients may ask for them by full name.
          for (const f of t.fields) this.symbols.set(`${t.typeName}.${f.name}`, file);
          for (const o of t.oneofs) this.symbols.set(`${t.typeName}.${o.name}`, file);
          break;
        case "enum": {
          // Enum values are scoped as siblings of their enum (C++ scoping rules).
          const scope = t.typeName.slice(0, t.typeName.length - t.name.length);
          for (const v of t.values) this.symbols.set(scope + v.name, file);
          break;
        }
        case "service":
          for (const m of t.methods) this.symbols.set(`${t.typeName}.${m.name}`, file);
          break;
        case "extension": {
          const byNumber = this.extensions.get(t.extendee.typeName) ?? new Map<number, DescFile>();
          byNumber.set(t.number, file);
          this.extensions.set(t.extendee.typeName, byNumber);
          break;
        }
      }
    }
    for (const dep of file.dependencies) this.addFile(dep);
  }

  /** The file first, then all its transitive dependencies (google/protobuf/* included),
   * each serialized once: clients cannot build Struct/Timestamp fields without them. */
  withDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return [...seen].map((f) => {
      let bytes = this.serialized.get(f);
      if (!bytes) {
        bytes = toBinary(FileDescriptorProtoSchema, f.proto);
        this.serialized.set(f, bytes);
      }
      return bytes;
    });
  }
}

// Init shape, so that answers can be written as plain objects.
type MessageResponse = MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"];

function answer(index: Index, req: ServerReflectionRequest): MessageResponse {
  const notFound = (what: string): MessageResponse => ({
    case: "errorResponse",
    value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
  });
  const files = (file: DescFile | undefined, what: string): MessageResponse =>
    file
      ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: index.withDependencies(file) } }
      : notFound(what);

  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
    case "fileByFilename":
      return files(index.files.get(r.value), `file "${r.value}"`);
    case "fileContainingSymbol":
      // Clients sometimes send a leading dot; names are otherwise fully qualified.
      return files(index.symbols.get(r.value.replace(/^\./, "")), `symbol "${r.value}"`);
    case "fileContainingExtension":
      return files(
        index.extensions.get(r.value.containingType)?.get(r.value.extensionNumber),
        `extension ${r.value.containingType}:${r.value.extensionNumber}`,
      );
    case "allExtensionNumbersOfType": {
      // A known message without extensions answers with an empty list, an unknown one NOT_FOUND.
      if (!index.messages.has(r.value)) return notFound(`message type "${r.value}"`);
      return {
        case: "allExtensionNumbersResponse",
        value: {
          baseTypeName: r.value,
          extensionNumber: [...(index.extensions.get(r.value)?.keys() ?? [])].sort((a, b) => a - b),
        },
      };
    }
    default:
      return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "empty request" } };
  }
}

/**
 * Registers grpc.reflection.v1 and v1alpha ServerReflection, describing `services` plus
 * grpc.health.v1.Health and the reflection services themselves.
 */
export function registerReflection(router: ConnectRouter, services: DescService[]): ConnectRouter {
  for (const { service, impl } of reflectionImpls(services)) router.service(service, impl as never);
  return router;
}

/** The v1 and v1alpha ServerReflection services with their implementations. */
export function reflectionImpls(services: DescService[]): [
  { service: typeof ServerReflection; impl: ServiceImpl<typeof ServerReflection> },
  { service: typeof v1alpha.ServerReflection; impl: ServiceImpl<typeof v1alpha.ServerReflection> },
] {
  const index = new Index([...services, Health, ServerReflection, v1alpha.ServerReflection]);
  const respond = (req: ServerReflectionRequest): ServerReflectionResponse =>
    create(ServerReflectionResponseSchema, {
      validHost: req.host,
      originalRequest: req,
      messageResponse: answer(index, req),
    });
  return [
    {
      service: ServerReflection,
      impl: {
        async *serverReflectionInfo(requests) {
          for await (const req of requests) yield respond(req);
        },
      },
    },
    // v1alpha has the same field numbers as v1 (v1 is a rename), so convert through the wire format
    // rather than duplicating the logic.
    {
      service: v1alpha.ServerReflection,
      impl: {
        async *serverReflectionInfo(requests) {
          for await (const alphaReq of requests) {
            const req = fromBinary(ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, alphaReq));
            const res = respond(req);
            yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(ServerReflectionResponseSchema, res));
          }
        },
      },
    },
  ];
}
