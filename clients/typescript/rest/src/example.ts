// A typed REST client of kwaishop-gateway: openapi-fetch over the types that
// openapi-typescript generates from the gateway's OpenAPI 3 document
// (src/schema.d.ts; `make openapi-types` regenerates them). Paths, path and
// query parameters, request bodies, answers and error bodies are all
// checked by the compiler (tsc --strict).
//
//   npm ci && npm run build
//   KWAISHOP_REST_URL=http://127.0.0.1:8080 [KWAISHOP_API_KEY=...] npm run example
//
// It lists the authorized shops, one shop's orders of the last day, sends
// one raw platform call, and decodes the error of a call for a shop that
// does not exist.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Status = components["schemas"]["Status"];
type ErrorReason = components["schemas"]["ErrorReason"];

/** The parts of an error answer a program acts on. */
export interface GatewayError {
  httpStatus: number;
  /** The gRPC status code's name, such as "NOT_FOUND". */
  code: Status["code"];
  message: string;
  reason?: ErrorReason;
  metadata: Record<string, string>;
  /** Seconds to wait before a retry, when the gateway says a retry may succeed. */
  retryDelaySeconds?: number;
  fieldViolations: { field: string; description: string }[];
}

/** decodeError reads the typed details of a `Status` error body. */
export function decodeError(httpStatus: number, s: Status): GatewayError {
  const out: GatewayError = { httpStatus, code: s.code, message: s.message, metadata: {}, fieldViolations: [] };
  for (const d of s.details ?? []) {
    switch (d["@type"]) {
      case "type.googleapis.com/google.rpc.ErrorInfo":
        if ("reason" in d && typeof d.reason === "string") {
          out.reason = d.reason;
          out.metadata = "metadata" in d && d.metadata ? d.metadata : {};
        }
        break;
      case "type.googleapis.com/google.rpc.RetryInfo":
        if ("retry_delay" in d && typeof d.retry_delay === "string") {
          out.retryDelaySeconds = Number.parseFloat(d.retry_delay); // "1.500s"
        }
        break;
      case "type.googleapis.com/google.rpc.BadRequest":
        if ("field_violations" in d) {
          for (const v of d.field_violations ?? []) {
            out.fieldViolations.push({ field: v.field ?? "", description: v.description ?? "" });
          }
        }
        break;
    }
  }
  return out;
}

const baseUrl = process.env.KWAISHOP_REST_URL ?? "http://127.0.0.1:8080";
const apiKey = process.env.KWAISHOP_API_KEY;
const client = createClient<paths>({
  baseUrl,
  headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
});

async function main(): Promise<void> {
  const auths = await client.GET("/v1/authorizations", { params: { query: { page_size: 10 } } });
  if (auths.error) {
    throw new Error(`list authorizations: ${JSON.stringify(decodeError(auths.response.status, auths.error))}`);
  }
  const shop = auths.data.authorizations?.[0];
  if (!shop?.open_id) {
    console.log("no authorized shop");
    return;
  }
  console.log(`shop ${shop.open_id}: ${shop.status}, token expires ${shop.access_token_expire_time}`);

  const now = new Date();
  const orders = await client.GET("/v1/shops/{open_id}/orders", {
    params: {
      path: { open_id: shop.open_id },
      query: { start_time: new Date(now.getTime() - 24 * 3600 * 1000).toISOString(), end_time: now.toISOString(), page_size: 20 },
    },
  });
  if (orders.error) {
    throw new Error(`list orders: ${JSON.stringify(decodeError(orders.response.status, orders.error))}`);
  }
  for (const o of orders.data.orders ?? []) {
    // int64 fields (order_id, total_fen) are strings: exact beyond 2^53.
    console.log(`order ${o.order_id} ${o.status} total ${o.total_fen ?? "0"} fen`);
  }

  const call = await client.POST("/v1/call", {
    body: { open_id: shop.open_id, method: "open.shop.info.get", params: {} },
  });
  if (call.error) {
    console.log("call failed:", decodeError(call.response.status, call.error));
  } else {
    console.log(`call: result ${call.data.result}, request_id ${call.data.request_id}`);
  }

  const missing = await client.GET("/v1/authorizations/{open_id}", { params: { path: { open_id: "no-such-shop" } } });
  if (missing.error) {
    const e = decodeError(missing.response.status, missing.error);
    console.log(`unknown shop: HTTP ${e.httpStatus}, reason ${e.reason}, retry after ${e.retryDelaySeconds ?? "-"} s`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
