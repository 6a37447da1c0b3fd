// A typed client that calls a service implementation in this process, with
// no network hop: the NeMo Gym HTTP routes of an instance use it to reach
// the instance's own gRPC service.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, createRouterTransport, type Client, type ServiceImpl } from "@connectrpc/connect";
import { errorBoundary } from "../mesh/error-boundary.js";

export function localClient<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): Client<S> {
  return createClient(
    service,
    createRouterTransport((router) => router.service(service, impl), { router: { interceptors: [errorBoundary] } }),
  );
}
