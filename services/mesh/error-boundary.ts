// A server interceptor that re-raises an error coming from another service
// as this server's own: same code and message, without the other response's
// headers (content-type, grpc-status...), which would corrupt this response.
import { ConnectError, type Interceptor } from "@connectrpc/connect";

export const errorBoundary: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    if (err instanceof ConnectError && [...err.metadata.keys()].length > 0) {
      throw new ConnectError(err.rawMessage, err.code, undefined, undefined, err.cause);
    }
    throw err;
  }
};
