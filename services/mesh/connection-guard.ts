// Bounds on connections, so that silent or abusive sockets cannot starve the
// process (`limits:` in mesh/kind.ts): a cap per port and one for the whole
// process below its open-file limit, a deadline for a new connection's first
// bytes, and, for HTTP/2 sessions, an idle timeout, keepalive pings that find
// dead peers, and gRPC's keepalive enforcement (too many pings: GOAWAY).
import * as fs from "node:fs";
import * as http2 from "node:http2";
import type * as net from "node:net";
import type { Limits } from "./kind.js";
import { log } from "./log.js";

/** The process's open-file limit (Linux: /proc/self/limits; Node raises the soft limit to the hard one), or undefined. */
function openFileLimit(): number | undefined {
  try {
    const m = fs.readFileSync("/proc/self/limits", "utf8").match(/^Max open files\s+(\d+)/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const fileLimit = openFileLimit();
/**
 * Connections all guarded ports of the process may hold together: a tenth of
 * the open-file limit stays free for files, peers and upstream connections,
 * so a flood of one instance leaves the others able to work.
 */
const PROCESS_CONNECTION_CAP = fileLimit ? Math.floor(fileLimit * 0.9) : Infinity;
let processConnections = 0;

/**
 * Guards a listening socket's connections: at most limits.max_connections at
 * once (more are closed as they arrive, as are all past the process's cap),
 * and a connection that sends no byte within first_bytes_timeout_s is closed.
 * The bytes are counted without reading them (under TLS: the handshake's).
 */
export function guardListener(server: net.Server, limits: Limits, where: string): void {
  server.maxConnections = limits.max_connections;
  const refused = refusalLog(where);
  server.on("drop", () => refused(`max_connections (${limits.max_connections})`));
  const firstBytesMs = limits.first_bytes_timeout_s * 1000;
  server.on("connection", (socket: net.Socket) => {
    if (processConnections >= PROCESS_CONNECTION_CAP) {
      socket.destroy();
      refused(`the process's connection cap (${PROCESS_CONNECTION_CAP}, below its open-file limit)`);
      return;
    }
    processConnections++;
    const silent = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, firstBytesMs);
    silent.unref();
    socket.once("close", () => {
      processConnections--;
      clearTimeout(silent);
    });
  });
}

/**
 * Closes `socket` unless it sends something within first_bytes_timeout_s
 * (for a socket read by the caller, e.g. decrypted after TLS); returns the
 * function to call when its first bytes came.
 */
export function firstBytesDeadline(socket: net.Socket, limits: Limits): () => void {
  const timer = setTimeout(() => socket.destroy(), limits.first_bytes_timeout_s * 1000);
  timer.unref();
  const clear = () => clearTimeout(timer);
  socket.once("close", clear);
  return clear;
}

/** A client may ping too often this many times in a row before its connection is closed (gRPC's max_ping_strikes). */
const MAX_PING_STRIKES = 2;

/**
 * Guards one HTTP/2 server session: closed (GOAWAY, calls in flight finish)
 * after http2_idle_timeout_s with no stream open; pinged every
 * keepalive_time_s and destroyed when no answer comes within
 * keepalive_timeout_s; and, when it pings more often than
 * keepalive_min_interval_s more than twice with no new stream in between,
 * sent GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and destroyed.
 */
export function guardSession(session: http2.ServerHttp2Session, limits: Limits): void {
  const idleMs = limits.http2_idle_timeout_s * 1000;
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (idleMs <= 0) return;
    idle = setTimeout(() => session.close(), idleMs);
    idle.unref();
  };
  let strikes = 0;
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    strikes = 0;
    clearTimeout(idle);
    stream.once("close", () => {
      if (--open === 0 && !session.closed) armIdle();
    });
  });
  armIdle();

  let pinger: NodeJS.Timeout | undefined;
  if (limits.keepalive_time_s > 0) {
    pinger = setInterval(() => {
      if (session.closed || session.destroyed) return;
      const dead = setTimeout(() => session.destroy(), limits.keepalive_timeout_s * 1000);
      dead.unref();
      if (!session.ping(() => clearTimeout(dead))) clearTimeout(dead);
    }, limits.keepalive_time_s * 1000);
    pinger.unref();
  }

  const minIntervalMs = limits.keepalive_min_interval_s * 1000;
  let lastPing = -Infinity;
  if (minIntervalMs > 0) {
    session.on("ping", () => {
      const now = performance.now();
      // Pings while calls are open are fair (gRPC clients probe bandwidth with
      // them as data flows): only pings on an idle connection count as strikes.
      if (open === 0 && now - lastPing < minIntervalMs && ++strikes > MAX_PING_STRIKES && !session.destroyed) {
        log.warn("too_many_pings", { remote: session.socket?.remoteAddress, min_interval_s: limits.keepalive_min_interval_s });
        session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from("too_many_pings"));
        setImmediate(() => session.destroy());
      }
      lastPing = now;
    });
  }
  session.once("close", () => {
    clearTimeout(idle);
    clearInterval(pinger);
  });
}

/** Logs refused connections at most every 10 s per port, with how many since the last line. */
function refusalLog(where: string): (reason: string) => void {
  let count = 0;
  let last = -Infinity;
  return (reason) => {
    count++;
    const now = performance.now();
    if (now - last < 10_000) return;
    log.warn("connections_refused", { where, count, reason, open_in_process: processConnections });
    last = now;
    count = 0;
  };
}
