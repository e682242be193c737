// A gRPC (HTTP/2) transport to the gateway and a client per service.
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type * as http2 from "node:http2";
import { AuthorizationService } from "./gen/kwaishop/gateway/v1/authorization_pb.js";
import { ItemService } from "./gen/kwaishop/gateway/v1/item_pb.js";
import { LogisticsService } from "./gen/kwaishop/gateway/v1/logistics_pb.js";
import { MessageService } from "./gen/kwaishop/gateway/v1/message_pb.js";
import { OrderService } from "./gen/kwaishop/gateway/v1/order_pb.js";
import { PlatformService } from "./gen/kwaishop/gateway/v1/platform_pb.js";
import { RefundService } from "./gen/kwaishop/gateway/v1/refund_pb.js";
import { ShopService } from "./gen/kwaishop/gateway/v1/shop_pb.js";
import { StatsService } from "./gen/kwaishop/gateway/v1/stats_pb.js";

export interface GatewayOptions {
  /** The gateway's gRPC address as a URL: `http://127.0.0.1:9090`, or `https://…` when it serves TLS. */
  baseUrl?: string;
  /** One of the secrets of KWAISHOP_API_KEYS, sent as `authorization: Bearer …` (none on a keyless loopback gateway). */
  apiKey?: string;
  /** Node's http2 connect options, for example `ca` for a private TLS root. */
  nodeOptions?: http2.SecureClientSessionOptions;
}

/** createGatewayTransport speaks gRPC over HTTP/2 to the gateway. */
export function createGatewayTransport(opts: GatewayOptions = {}): Transport {
  const interceptors: Interceptor[] = [];
  const apiKey = opts.apiKey;
  if (apiKey) {
    interceptors.push((next) => async (req) => {
      req.header.set("authorization", `Bearer ${apiKey}`);
      return next(req);
    });
  }
  return createGrpcTransport({
    baseUrl: opts.baseUrl ?? "http://127.0.0.1:9090",
    interceptors,
    nodeOptions: opts.nodeOptions,
  });
}

export interface GatewayClients {
  authorization: Client<typeof AuthorizationService>;
  platform: Client<typeof PlatformService>;
  orders: Client<typeof OrderService>;
  items: Client<typeof ItemService>;
  refunds: Client<typeof RefundService>;
  logistics: Client<typeof LogisticsService>;
  shops: Client<typeof ShopService>;
  messages: Client<typeof MessageService>;
  stats: Client<typeof StatsService>;
}

/** createGatewayClients returns a client for every gateway service over one transport. */
export function createGatewayClients(transport: Transport): GatewayClients {
  return {
    authorization: createClient(AuthorizationService, transport),
    platform: createClient(PlatformService, transport),
    orders: createClient(OrderService, transport),
    items: createClient(ItemService, transport),
    refunds: createClient(RefundService, transport),
    logistics: createClient(LogisticsService, transport),
    shops: createClient(ShopService, transport),
    messages: createClient(MessageService, transport),
    stats: createClient(StatsService, transport),
  };
}
