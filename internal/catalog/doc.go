// Package catalog is the schema catalog of the Kuaishou open platform's
// APIs: for each of the 278 catalogued API names its HTTP verb, its request
// and response schemas (field names, types, nesting, required fields, file
// fields, documented limits, each field's short description) and which
// members of its answer are payload beside the envelope.
//
// The catalog is the embedded catalog.json. It is generated, never edited:
// `make catalog` runs scripts/catalog/generate.mjs, which reads the platform
// API declarations shipped by the pinned npm package
// kuaishou-merchant-open-api with the TypeScript compiler's parser, and
// `make catalog-check` (CI) fails when the committed file differs from what
// the generator makes (scripts/catalog/README.md).
//
// # The file
//
//	{
//	  "apis": { "open.order.cursor.list": {
//	      "verb": "GET", "description": "获取订单列表",
//	      "request":  <schema>, "response": <schema>,
//	      "topLevel": ["data"] }, … },
//	  "defs": { "OrderListData_10683": <object schema>, … },
//	  "source": { "package": "kuaishou-merchant-open-api@1.0.1", … }
//	}
//
// A schema is a small JSON-Schema-like object: type (object, array, string,
// integer, number, boolean), properties, required, items, description,
// additionalProperties (true only for a free-form map), file (a multipart
// file part, such as imgBytes of open.item.image.upload), ref (the name of a
// shared object in defs; the field's own description beside it), and the
// limits read from the documentation's wording: maxItems on arrays,
// maxLength on strings, maximum and minimum on integers. An API's
// "permission" (its permission package) is carried when the source states
// it; the declarations of kuaishou-merchant-open-api@1.0.1 do not, so no API
// has one today.
//
// The declarations have one numeric type; the generator marks a field
// integer when its name or description says it identifies, counts,
// enumerates or is in an integral unit (分, 毫秒, 千分比), and number
// otherwise (the rule is written out in scripts/catalog/generate.mjs).
//
// Schemas may be recursive (category and district trees refer to
// themselves): walk them with a depth bound.
package catalog
