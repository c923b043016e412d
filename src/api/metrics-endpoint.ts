import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** MetricsSource renders metrics in a text format, with its Content-Type (MandateMetrics). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/**
 * MetricsEndpoint serves `source` over plain HTTP for Prometheus: `GET /metrics` answers 200
 * with the metrics, every other path 404 and every other method 405. It carries no
 * authentication: bind it where only the scraper can reach it.
 */
export class MetricsEndpoint {
  readonly #server: Server;

  constructor(source: MetricsSource) {
    this.#server = createServer((request, response) => {
      const path = (request.url ?? "/").split("?")[0];
      if (path !== "/metrics") {
        response.writeHead(404, { "content-type": "text/plain" }).end("not found: metrics are at /metrics\n");
        return;
      }
      if (request.method !== "GET" && request.method !== "HEAD") {
        response.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" }).end();
        return;
      }
      source.metrics().then(
        (text) => response.writeHead(200, { "content-type": source.contentType }).end(request.method === "HEAD" ? undefined : text),
        () => response.writeHead(500, { "content-type": "text/plain" }).end("metrics could not be collected\n"),
      );
    });
  }

  /** listen binds `host:port` (port 0 picks a free one) and resolves to the bound port. */
  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    return (this.#server.address() as AddressInfo).port;
  }

  /** close stops accepting scrapes and ends open connections; resolves once closed (at once if never listening). */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
