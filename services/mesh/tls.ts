// TLS for both ports of a server and for the mesh's calls to its peers. The
// main port terminates TLS first and hands each decrypted connection to the
// same h2c/HTTP/1.1 sniffer as in clear text (ALPN offers h2 and http/1.1);
// the grpc-js port uses grpc-js's own TLS. With a CA, both ports ask for a
// client certificate signed by it (mutual TLS) and refuse the handshake
// without one; the same CA is what peers' certificates are checked against.
import * as net from "node:net";
import * as tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { log } from "./log.js";

/** PEM contents (read from the config's files at start). */
export interface TlsMaterial {
  /** The certificate chain this instance presents, as a server and, to peers asking for one, as a client. */
  cert: Buffer;
  key: Buffer;
  /** Clients must present a certificate signed by it (mutual TLS); peers' certificates are checked against it. */
  ca?: Buffer;
}

/**
 * The main port's listener under TLS: each connection, once its handshake is
 * done, goes to `onConnection` (the protocol sniffer), decrypted.
 */
export function tlsListener(material: TlsMaterial, instance: string, onConnection: (socket: net.Socket) => void): tls.Server {
  const mutual = material.ca !== undefined;
  const server = tls.createServer(
    {
      cert: material.cert,
      key: material.key,
      ca: material.ca,
      requestCert: mutual,
      rejectUnauthorized: mutual,
      ALPNProtocols: ["h2", "http/1.1"],
      noDelay: true,
      // A connection that does not finish its handshake soon is dropped (Node's default waits 120 s).
      handshakeTimeout: 10_000,
    },
    onConnection,
  );
  // A refused client certificate shows here (the client only sees a closed connection).
  server.on("tlsClientError", (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    log.info("tls_handshake_failed", { instance, remote: socket.remoteAddress, reason: err.code ?? err.message });
  });
  return server;
}

/** The grpc-js port's credentials: TLS (asking for a client certificate when there is a CA), or none. */
export function grpcJsServerCredentials(material: TlsMaterial | undefined): grpc.ServerCredentials {
  if (!material) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(material.ca ?? null, [{ cert_chain: material.cert, private_key: material.key }], material.ca !== undefined);
}

/**
 * Credentials of a grpcs:// peer: trust the CA (the system's roots without
 * one) and present this instance's certificate when the peer asks (mTLS).
 */
export function grpcJsChannelCredentials(material: TlsMaterial | undefined): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(material?.ca ?? null, material?.key ?? null, material?.cert ?? null);
}
