// kwaishop-gateway from Node over gRPC: list a shop's orders, call a platform
// API through PlatformService.Call (64-bit ids exact both ways), and
// handle NOT_FOUND, INVALID_ARGUMENT and
// RESOURCE_EXHAUSTED with the decoded ErrorInfo reason, BadRequest field
// violations and RetryInfo delay.
//
//   go run ./cmd/server                               # sandbox + embedded NATS
//   cd clients/typescript && npm ci && npm run build && node dist/example.js
//
// Settings (environment): KWAISHOP_GATEWAY_URL (default
// http://127.0.0.1:9090), KWAISHOP_API_KEY (when the gateway has
// KWAISHOP_API_KEYS), KWAISHOP_OPEN_ID (default: the first active
// authorization), KWAISHOP_LIMITED_METHOD (the platform API the
// RESOURCE_EXHAUSTED part calls twice; default open.user.seller.get). To see
// a client-side limit refuse the second call, start the server with
// KWAISHOP_API_QPS_OVERRIDES=open.user.seller.get=0.001.
import { Code } from "@connectrpc/connect";
import { toJson } from "@bufbuild/protobuf";
import { timestampDate, ValueSchema } from "@bufbuild/protobuf/wkt";
import {
  AuthorizationStatus,
  createGatewayClients,
  createGatewayTransport,
  decodeError,
  OrderStatusSchema,
  type GatewayClients,
} from "./src/index.js";

async function firstActiveShop(c: GatewayClients): Promise<string> {
  const resp = await c.authorization.listAuthorizations(
    { status: AuthorizationStatus.ACTIVE },
    { timeoutMs: 10_000 },
  );
  const first = resp.authorizations[0];
  if (!first) {
    throw new Error("no active authorization: authorize a shop first (the sandbox server does it at start)");
  }
  return first.openId;
}

async function listOrders(c: GatewayClients, openId: string): Promise<void> {
  // Default range: the last 7 days by create time.
  const resp = await c.orders.listOrders({ openId, pageSize: 5 }, { timeoutMs: 30_000 });
  console.log(`orders: ${resp.orders.length} (more: ${resp.nextPageToken !== ""})`);
  for (const o of resp.orders) {
    const created = o.createTime ? timestampDate(o.createTime).toISOString() : "-";
    // int64 fields (order_id, *_fen) are bigint.
    console.log(
      `order ${o.orderId} ${OrderStatusSchema.value[o.status]?.name ?? o.status} total_fen=${o.totalFen} created=${created} item=${JSON.stringify(o.item?.title ?? "")}`,
    );
  }
}

async function callShopInfo(c: GatewayClients, openId: string): Promise<void> {
  const resp = await c.platform.call({ openId, method: "open.shop.info.get" }, { timeoutMs: 30_000 });
  const data = resp.data ? toJson(ValueSchema, resp.data) : null;
  console.log(`call open.shop.info.get: result=${resp.result} request_id=${resp.requestId} data=${JSON.stringify(data)}`);
}

// quoteBigInts quotes every integer literal of 16 or more digits outside the
// strings of a JSON text, so that JSON.parse keeps its digits (as a string):
// JSON.parse alone rounds 2617801683312294173 to a double, and Node 20 cannot
// show a reviver the number's source text.
function quoteBigInts(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (inString) {
      out += ch;
      if (ch === "\\") out += text.charAt(++i);
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    if (ch === "-" || (ch >= "0" && ch <= "9")) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text.charAt(j))) j++;
      const lit = text.slice(i, j);
      out += /^-?[0-9]{16,}$/.test(lit) ? `"${lit}"` : lit;
      i = j - 1;
      continue;
    }
    out += ch;
  }
  return out;
}

// exactIds: platform ids reach 2^53 and beyond (order item ids ~2.6e16).
// The typed services carry them as bigint; through Call, send them in
// params_json (as written) and read them from body_json (the platform's
// answer verbatim).
async function exactIds(c: GatewayClients, openId: string): Promise<void> {
  const typed = await c.orders.listOrders({ openId, pageSize: 1 }, { timeoutMs: 30_000 });
  const first = typed.orders[0];
  if (!first) {
    console.log("exact ids: the shop has no order in the last 7 days");
    return;
  }
  const resp = await c.platform.call(
    { openId, method: "open.order.detail", paramsJson: `{"oid":${first.orderId}}` },
    { timeoutMs: 30_000 },
  );
  const body = JSON.parse(quoteBigInts(resp.bodyJson)) as { data?: { orderBaseInfo?: { oid?: string } } };
  const oid = BigInt(body.data?.orderBaseInfo?.oid ?? "0");
  console.log(`exact ids: order_id=${first.orderId} call oid=${oid} equal=${oid === first.orderId}`);
}

async function notFound(c: GatewayClients): Promise<void> {
  try {
    await c.orders.listOrders({ openId: "no-such-shop" }, { timeoutMs: 10_000 });
    console.log("NOT_FOUND expected, the call passed");
  } catch (err) {
    const e = decodeError(err);
    if (e.code !== Code.NotFound) throw err;
    console.log(`NOT_FOUND reason=${e.reason} domain=${e.domain} message=${JSON.stringify(e.message)}`);
  }
}

async function invalidArgument(c: GatewayClients, openId: string): Promise<void> {
  try {
    await c.orders.listOrders({ openId, pageSize: 1000 }, { timeoutMs: 10_000 });
    console.log("INVALID_ARGUMENT expected, the call passed");
  } catch (err) {
    const e = decodeError(err);
    if (e.code !== Code.InvalidArgument) throw err;
    const fields = e.fieldViolations.map((v) => `${v.field}: ${v.description}`).join(", ");
    console.log(`INVALID_ARGUMENT reason=${e.reason} field_violations=[${fields}]`);
  }
}

async function resourceExhausted(c: GatewayClients, openId: string, method: string): Promise<void> {
  for (const attempt of [1, 2]) {
    try {
      await c.platform.call({ openId, method }, { timeoutMs: 30_000 });
      console.log(`call ${method} #${attempt}: ok`);
    } catch (err) {
      const e = decodeError(err);
      if (e.code !== Code.ResourceExhausted && e.code !== Code.Unavailable) throw err;
      // RESOURCE_EXHAUSTED: a client-side QPS limit or a daily quota;
      // UNAVAILABLE: the platform's own QPS limit or an open circuit breaker.
      // Either way RetryInfo says how long to wait.
      const delay = e.retryDelayMs === undefined ? "none" : `${e.retryDelayMs / 1000}s`;
      console.log(
        `${e.codeName} reason=${e.reason} retry_delay=${delay} limit=${e.metadata["limit"] ?? "-"} method=${e.metadata["method"] ?? "-"}`,
      );
      return;
    }
  }
  console.log(`no limit refused ${method} (start the server with KWAISHOP_API_QPS_OVERRIDES=${method}=0.001 to see one)`);
}

async function main(): Promise<void> {
  const transport = createGatewayTransport({
    baseUrl: process.env["KWAISHOP_GATEWAY_URL"] ?? "http://127.0.0.1:9090",
    apiKey: process.env["KWAISHOP_API_KEY"],
  });
  const c = createGatewayClients(transport);
  const openId = process.env["KWAISHOP_OPEN_ID"] || (await firstActiveShop(c));
  console.log(`shop open_id=${openId}`);
  await listOrders(c, openId);
  await callShopInfo(c, openId);
  await exactIds(c, openId);
  await notFound(c);
  await invalidArgument(c, openId);
  await resourceExhausted(c, openId, process.env["KWAISHOP_LIMITED_METHOD"] ?? "open.user.seller.get");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
