import { Code } from "@connectrpc/connect";

/** "invalid_argument", "not_found"...: gRPC code names as status strings write them. */
export function codeName(code: Code): string {
  return Code[code]!.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
