// One RolloutService `collect` over several (mesh worker threads, or several
// connections to a `gym serve --workers N`): each request (one task, its
// repeats) goes whole to the target with the fewest rollouts in flight and
// is answered there, so a rollout and its session stay on one target; the
// results of all targets come back as one stream. A target whose stream
// fails fails the whole call: the collector then resends what was not
// answered, as after a broken stream.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import { CollectRequestSchema, type CollectRequest, type CollectResponse, type RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { AsyncQueue } from "../mesh/async-queue.js";

/** What the collector calls of a rollout service. */
export type CollectClient = Pick<Client<typeof RolloutService>, "collect">;

export interface SpreadCollect extends CollectClient {
  /** Rollouts each target has answered so far (how the work spread). */
  answered(): number[];
}

interface Target {
  client: CollectClient;
  /** Rollouts sent and not answered yet, over all calls. */
  inFlight: number;
  answered: number;
  /** Why it takes no more work (a worker that stopped). */
  gone?: () => string | undefined;
}

/** `collect` over the targets; `gone(i)` says why target i can take no work (or undefined when it can). */
export function spreadCollect(clients: CollectClient[], gone?: (i: number) => string | undefined): SpreadCollect {
  const targets: Target[] = clients.map((client, i) => ({ client, inFlight: 0, answered: 0, gone: gone && (() => gone(i)) }));

  async function* collect(requests: AsyncIterable<MessageInitShape<typeof CollectRequestSchema>>, options: CallOptions = {}): AsyncIterable<CollectResponse> {
    const results = new AsyncQueue<CollectResponse>();
    const cancel = new AbortController();
    const onAbort = () => cancel.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    // Per target this call opened a stream on: its requests, and its rollouts not answered yet.
    const open = new Map<Target, { requests: AsyncQueue<CollectRequest>; owed: number }>();
    let inputEnded = false;
    let running = 0;

    const openOn = (target: Target) => {
      const stream = { requests: new AsyncQueue<CollectRequest>(), owed: 0 };
      open.set(target, stream);
      running++;
      void (async () => {
        try {
          for await (const res of target.client.collect(stream.requests, { ...options, signal: cancel.signal })) {
            target.inFlight--;
            target.answered++;
            stream.owed--;
            results.push(res);
          }
          if (stream.owed > 0) throw new ConnectError(`a rollout stream ended with ${stream.owed} rollouts unanswered`, Code.Unavailable);
          open.delete(target); // ended early with all answered: the next request opens a new one
          if (--running === 0 && inputEnded) results.end();
        } catch (err) {
          results.fail(ConnectError.from(err));
        } finally {
          target.inFlight -= stream.owed; // never answered (a cancelled or failed stream)
          stream.owed = 0;
        }
      })();
      return stream;
    };

    const pump = (async () => {
      for await (const init of requests) {
        const req = create(CollectRequestSchema, init);
        const target = leastBusy(targets);
        if (!target) throw new ConnectError(`no rollout target can take work (${targets.map((t) => t.gone?.()).join("; ")})`, Code.Unavailable);
        const stream = open.get(target) ?? openOn(target);
        const rollouts = Math.max(1, req.numRepeats);
        stream.owed += rollouts;
        target.inFlight += rollouts;
        stream.requests.push(req);
      }
      inputEnded = true;
      for (const stream of open.values()) stream.requests.end();
      if (running === 0) results.end();
    })();
    pump.catch((err) => results.fail(ConnectError.from(err)));

    try {
      yield* results;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      cancel.abort(); // streams still open (a failed or abandoned call)
      for (const stream of open.values()) stream.requests.end();
    }
  }

  return { collect, answered: () => targets.map((t) => t.answered) };
}

function leastBusy(targets: Target[]): Target | undefined {
  let best: Target | undefined;
  for (const t of targets) if (!t.gone?.() && (!best || t.inFlight < best.inFlight)) best = t;
  return best;
}
