// Package openapiv2 embeds the OpenAPI (Swagger 2.0) document generated from
// the protos by protoc-gen-openapiv2. This file is hand-written; the JSON
// beside it is generated (make generate).
package openapiv2

import _ "embed"

// JSON is the merged OpenAPI document for every REST path.
//
//go:embed kwaishop.swagger.json
var JSON []byte
