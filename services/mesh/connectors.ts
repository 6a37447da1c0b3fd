// Client sockets to a peer's main port: TCP with Nagle off, or TLS offering
// h2. Used by the mesh's own clients and by the client package alike.
import * as net from "node:net";
import * as tls from "node:tls";

/** What a client of an https:// instance trusts and shows: the mesh's TLS material, or a client's own. */
export interface TlsPeer {
  ca?: tls.ConnectionOptions["ca"];
  cert?: tls.ConnectionOptions["cert"];
  key?: tls.ConnectionOptions["key"];
  /** The name the server's certificate must carry (default: the URL's host name). */
  serverName?: string;
  rejectUnauthorized?: boolean;
}

/** A TLS connection to an https:// peer offering h2, with Nagle off; trusting `ca` and showing `cert`. */
export function tlsConnector(peer: TlsPeer | undefined): (authority: URL) => tls.TLSSocket {
  return (authority) => {
    const host = hostOf(authority);
    const socket = tls.connect({
      host,
      port: Number(authority.port || 443),
      servername: peer?.serverName ?? (net.isIP(host) ? undefined : host),
      ALPNProtocols: ["h2"],
      ca: peer?.ca,
      cert: peer?.cert,
      key: peer?.key,
      rejectUnauthorized: peer?.rejectUnauthorized ?? true,
    });
    socket.setNoDelay(true);
    return socket;
  };
}

/** A TCP connection with Nagle off: small gRPC frames must not wait for the peer's delayed ACK. */
export function connectNoDelay(authority: URL): net.Socket {
  return net.connect({ host: hostOf(authority), port: Number(authority.port || 80), noDelay: true });
}

/** A URL's host name without IPv6 brackets. */
const hostOf = (authority: URL) => authority.hostname.replace(/^\[(.*)\]$/, "$1");
