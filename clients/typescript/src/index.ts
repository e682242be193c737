// kwaishop-gateway for Node: generated messages and services (./gen, from
// `make clients`), a gRPC transport and clients, and the error helpers.
export * from "./client.js";
export * from "./errors.js";
export * from "./gen/kwaishop/gateway/v1/index.js";
