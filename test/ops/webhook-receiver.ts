/** A webhook receiver for tests: records every delivery; can fail the first N, or never answer. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Delivery {
  headers: IncomingMessage["headers"];
  body: string;
  status: number;
}

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Deliveries answered 2xx. */
  accepted: () => Delivery[];
  close(): Promise<void>;
}

export async function startReceiver(behaviour: { failFirst?: number; hang?: boolean } = {}): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      if (behaviour.hang) {
        hanging.push(res);
        return;
      }
      const status = deliveries.length < (behaviour.failFirst ?? 0) ? 500 : 200;
      deliveries.push({ headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    accepted: () => deliveries.filter((d) => d.status < 300),
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
