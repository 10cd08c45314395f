/**
 * What the Worker can tell the core about one exchange (src/ops/exchange.ts). With the
 * `enable_request_signal` compatibility flag, workerd aborts `request.signal` when the client
 * disconnects while the response is still going out; a request body cut midway fails its read
 * with "Network connection lost" (the signal need not have fired yet). The response counts as
 * sent once its body was piped out whole through an identity stream (then a FixedLengthStream
 * when its length is known, so workerd still sends Content-Length); the pipe ends when the
 * last bytes were taken towards the connection, or fails when the client cancelled.
 */
import type { ExchangeInfo, ExchangeOutcome } from "../../src/index.ts";

export interface WatchedExchange {
  info: ExchangeInfo;
  /** The response to return: the same, with its body piped so its end (or abandonment) is seen. */
  track(response: Response): Response;
}

export function watchExchange(request: Request): WatchedExchange {
  let settle!: (outcome: ExchangeOutcome) => void;
  const done = new Promise<ExchangeOutcome>((resolve) => (settle = resolve));
  const { signal } = request;
  const info: ExchangeInfo = {
    clientAddress: request.headers.get("cf-connecting-ip") ?? undefined,
    clientGone: (error) => signal.aborted || (error instanceof Error && /network connection lost/i.test(error.message)),
    done,
  };
  return {
    info,
    track(response) {
      if (!response.body) {
        settle({ aborted: signal.aborted });
        return response;
      }
      signal.addEventListener("abort", () => settle({ aborted: true }), { once: true });
      // A JS identity stream: workerd cannot pipe one of its own transform streams (the
      // registry's FixedLengthStream bodies) into another ("Inter-TransformStream pipeTo").
      const pipe = new TransformStream<Uint8Array, Uint8Array>();
      response.body.pipeTo(pipe.writable).then(
        () => settle({ aborted: false }),
        () => settle({ aborted: true }),
      );
      // A known length goes out as Content-Length again, not chunked.
      const length = Number(response.headers.get("content-length") ?? NaN);
      const body = Number.isSafeInteger(length) ? pipe.readable.pipeThrough(new FixedLengthStream(length)) : pipe.readable;
      return new Response(body, response);
    },
  };
}
