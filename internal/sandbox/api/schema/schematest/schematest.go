// Package schematest prepares a walk of every catalogued API against a
// sandbox shop, for tests at any level (the sandbox's own, the gateway's
// over gRPC): the params of each call, generated from the catalog
// (catalogtest.Params), with the values the rule-emulated APIs check set to
// the shop's records in the states the calls need (an order paid for
// delivery, a refund awaiting its receipt, a waybill to cancel, a time
// window ending now).
package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog/catalogtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

// Deviations are the rule-emulated APIs whose answers do not follow their
// catalogued response schema, with what differs: their shapes were chosen
// before the catalog existed (docs/sandbox.md calls them UNCONFIRMED), and
// the gateway's typed services decode them as they are. A walk expects
// exactly these to fail the check, so fixing one shows.
var Deviations = map[string]string{}

// Caller sends one call of the walk for the shop and returns the platform
// answer's JSON body (envelope and members, integers exact).
type Caller func(method string, params json.RawMessage, files map[string][]byte) ([]byte, error)

// Shop creates the records of a test user's shop (*sandbox.Sandbox).
type Shop interface {
	CreateOrder(sandbox.OrderSpec) (int64, error)
	CreateRefund(sandbox.RefundSpec) (int64, error)
	ReturnGoods(refundID, expressCode int64, expressNo string) error
}

// Fixture is a walk's shop and its way to call.
type Fixture struct {
	Shop     Shop
	TestUser int
	Now      time.Time // the sandbox clock
	Call     Caller
}

// Plan is the prepared params of a walk.
type Plan struct {
	set map[string]json.RawMessage
}

// expressSF is a carrier the sandbox knows: SF (its code 4).
const (
	expressCode = 4
	expressCo   = "SF"
)

// Prepare creates the records the rule-emulated APIs need (one each, so
// the calls of the walk may run in any order and in parallel) and the
// params that name them. It calls some APIs itself (ship an order, approve
// a return, issue a waybill) to bring records into their states.
func (f Fixture) Prepare() (*Plan, error) {
	p := &Plan{set: map[string]json.RawMessage{}}
	now := f.Now.UnixMilli()
	order := func(status int) (int64, error) {
		return f.Shop.CreateOrder(sandbox.OrderSpec{TestUser: f.TestUser, Status: status})
	}
	shipped := 0
	ship := func(oid int64) error {
		shipped++
		return f.ok("open.seller.order.goods.deliver", map[string]any{
			"orderId": oid, "expressCode": expressCode, "expressNo": fmt.Sprintf("%s%012d", expressCo, shipped)})
	}
	refund := func(way int) (int64, error) {
		oid, err := order(30)
		if err == nil && way == 1 { // goods to return: shipped first
			err = ship(oid)
		}
		if err != nil {
			return 0, err
		}
		return f.Shop.CreateRefund(sandbox.RefundSpec{OrderID: oid, HandlingWay: way})
	}
	var errs []error
	must := func(v int64, err error) int64 {
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	// Items: the shop's first item and its first SKU.
	var items struct {
		Items []struct {
			KwaiItemID json.Number `json:"kwaiItemId"`
			SkuList    []struct {
				SkuID json.Number `json:"skuId"`
			} `json:"skuList"`
		} `json:"items"`
	}
	if err := f.data("open.item.list.get", map[string]any{"pageSize": 1}, &items); err != nil {
		return nil, err
	}
	if len(items.Items) == 0 || len(items.Items[0].SkuList) == 0 {
		return nil, fmt.Errorf("schematest: the shop has no item with a SKU")
	}
	item, sku := items.Items[0].KwaiItemID, items.Items[0].SkuList[0].SkuID

	detailOid := must(order(30))
	var detail struct {
		Address struct {
			EncryptedConsignee string `json:"encryptedConsignee"`
		} `json:"orderAddress"`
	}
	if err := f.data("open.order.detail", map[string]any{"oid": detailOid}, &detail); err != nil {
		return nil, err
	}
	inTransit := must(order(30))
	if err := ship(inTransit); err != nil {
		return nil, err
	}
	returned := must(refund(1))
	rejected := must(refund(10))
	if len(errs) > 0 {
		return nil, fmt.Errorf("schematest: preparing the shop: %w", errs[0])
	}
	refundAmount := 1
	if err := f.ok("open.seller.order.refund.returngoods.approve", map[string]any{"refundId": returned, "refundAmount": refundAmount}); err != nil {
		return nil, err
	}
	if err := f.Shop.ReturnGoods(returned, 0, ""); err != nil {
		return nil, err
	}
	var rd struct {
		UpdateTime json.Number `json:"updateTime"`
	}
	if err := f.data("open.seller.order.refund.detail", map[string]any{"refundId": rejected}, &rd); err != nil {
		return nil, err
	}
	waybill, err := f.waybill()
	if err != nil {
		return nil, err
	}
	// A new item in the seeded leaf 连衣裙 with its required properties.
	walkItemNew := map[string]any{"title": "walk item", "relItemId": 1, "categoryId": 1110, "serviceRule": map[string]any{"refundRule": "1", "servicePromise": map[string]any{}},
		"itemPropValues": []any{map[string]any{"propId": 10, "sortNum": 1, "radioPropValue": map[string]any{"propValueId": 1001, "propValue": "山川"}},
			map[string]any{"propId": 11, "sortNum": 2, "checkBoxPropValuesList": []any{map[string]any{"propValueId": 1101, "propValue": "棉"}}}}}
	set := map[string]map[string]any{
		"open.order.cursor.list": {"beginTime": now - time.Hour.Milliseconds()*24, "endTime": now, "orderViewStatus": 1, "pageSize": 50, "cursor": ""},
		"open.order.detail":      {"oid": detailOid},
		"open.order.decrypt.batch": {"batchDecryptList": []any{map[string]any{
			"bizId": strconv.FormatInt(detailOid, 10), "encryptedData": detail.Address.EncryptedConsignee}}},
		"open.seller.order.goods.deliver":              {"orderId": must(order(30)), "expressCode": expressCode, "expressNo": expressCo + "100000000002"},
		"open.seller.order.logistics.update":           {"orderId": inTransit, "expressCode": expressCode, "expressNo": expressCo + "100000000003"},
		"open.seller.order.close":                      {"orderId": must(order(10))},
		"open.seller.order.note.add":                   {"orderId": must(order(30)), "note": "walk", "flag": 1},
		"open.item.list.get":                           {"pageSize": 10},
		"open.item.get":                                {"kwaiItemId": item},
		"open.item.new":                                walkItemNew,
		"open.item.category.config":                    {"categoryId": 1110},
		"open.item.category.prop.value.search":         {"categoryId": 1110, "propId": 11, "cursor": 0, "limit": 10},
		"open.item.brand.list.get":                     {"categoryId": 1110, "propId": 10, "cursor": 0},
		"open.item.edit":                               {"itemId": item},
		"open.item.sku.stock.update":                   {"kwaiItemId": item, "skuId": sku, "changeType": 1, "skuChangeStock": 1},
		"open.item.sku.price.update":                   {"itemId": item, "skuId": sku, "price": 100},
		"open.item.shelf.status.update":                {"kwaiItemId": item, "shelfStatus": 1},
		"open.seller.order.refund.pcursor.list":        {"beginTime": now - time.Hour.Milliseconds()*12, "endTime": now, "type": 9, "pageSize": 20, "currentPage": 1, "pcursor": ""},
		"open.seller.order.refund.detail":              {"refundId": must(refund(10))},
		"open.seller.order.refund.approve":             {"refundId": must(refund(10)), "refundAmount": refundAmount},
		"open.seller.order.refund.returngoods.approve": {"refundId": must(refund(1)), "refundAmount": refundAmount},
		"open.seller.order.refund.confirm.receipt":     {"refundId": returned},
		"open.refund.reject":                           {"refundId": rejected, "reasonCode": 1, "refundVersion": rd.UpdateTime},
		"open.refund.reject.reason":                    {"refundId": rejected},
		"open.express.ebill.get":                       {"getEbillOrderRequest": expressCo},
		"open.express.ebill.cancel":                    {"expressCompanyCode": expressCo, "waybillCode": waybill},
		"open.logistics.express.template.list":         {"offset": 0, "limit": 20, "searchUsed": false},
		"open.address.seller.list":                     {"addressType": 2},
		"open.address.seller.create":                   {"addressType": 3},
		"open.security.log.order":                      {"userIp": "192.0.2.1", "url": "https://erp.example/orders", "operation": 1, "time": now, "orderIds": []any{detailOid}},
		"open.security.log.login":                      {"userIp": "192.0.2.1", "loginResult": "success", "time": now},
		"open.security.log.batch":                      {"method": "login", "data": fmt.Sprintf(`[{"userIp":"192.0.2.1","loginResult":"success","time":%d}]`, now)},
		"open.security.log.open":                       {"clientIp": "192.0.2.1", "sendToUrl": "https://erp.example/push", "url": "https://erp.example", "time": now, "orderIds": []any{detailOid}},
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("schematest: preparing the shop: %w", errs[0])
	}
	for name, values := range set {
		a, ok := catalog.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("schematest: %s is not catalogued", name)
		}
		b, err := ebillRequest(a, values)
		if err != nil {
			return nil, err
		}
		p.set[name] = b
	}
	return p, nil
}

// Params returns the params of a's call in the walk: the prepared ones, or
// catalogtest.Params's required members.
func (p *Plan) Params(a *catalog.API) json.RawMessage {
	if b, ok := p.set[a.Name]; ok {
		return b
	}
	return catalogtest.Params(a, catalogtest.Options{})
}

// Without returns params the walk's call of a with the required top-level
// param name left out.
func (p *Plan) Without(a *catalog.API, name string) json.RawMessage {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(p.Params(a)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		panic(err) // Params's own JSON
	}
	delete(m, name)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// ebillRequest is the generated params of a with values set; for
// open.express.ebill.get the one generated request's carrier is set
// instead (values["getEbillOrderRequest"] names it).
func ebillRequest(a *catalog.API, values map[string]any) (json.RawMessage, error) {
	if a.Name != "open.express.ebill.get" {
		return catalogtest.Params(a, catalogtest.Options{Set: values}), nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(catalogtest.Params(a, catalogtest.Options{})))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	reqs, _ := m["getEbillOrderRequest"].([]any)
	if len(reqs) != 1 {
		return nil, fmt.Errorf("schematest: %s: generated %v", a.Name, m)
	}
	reqs[0].(map[string]any)["expressCompanyCode"] = values["getEbillOrderRequest"]
	return json.Marshal(m)
}

// waybill issues a waybill for the walk to cancel.
func (f Fixture) waybill() (string, error) {
	a, _ := catalog.Lookup("open.express.ebill.get")
	params, err := ebillRequest(a, map[string]any{"getEbillOrderRequest": expressCo})
	if err != nil {
		return "", err
	}
	var out []struct {
		Data []struct {
			WaybillCode string `json:"waybillCode"`
		} `json:"data"`
	}
	if err := f.decode("open.express.ebill.get", params, &out); err != nil {
		return "", err
	}
	if len(out) != 1 || len(out[0].Data) != 1 || out[0].Data[0].WaybillCode == "" {
		return "", fmt.Errorf("schematest: open.express.ebill.get issued %v", out)
	}
	return out[0].Data[0].WaybillCode, nil
}

// ok calls an API and requires result 1.
func (f Fixture) ok(method string, params map[string]any) error {
	return f.data(method, params, nil)
}

// data calls an API, requires result 1 and decodes its data into out.
func (f Fixture) data(method string, params map[string]any, out any) error {
	b, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return f.decode(method, b, out)
}

func (f Fixture) decode(method string, params json.RawMessage, out any) error {
	body, err := f.Call(method, params, nil)
	if err != nil {
		return fmt.Errorf("schematest: %s: %w", method, err)
	}
	var env struct {
		Result   int64           `json:"result"`
		ErrorMsg string          `json:"error_msg"`
		Data     json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("schematest: %s: %w: %s", method, err, body)
	}
	if env.Result != 1 {
		return fmt.Errorf("schematest: %s: result %d %q", method, env.Result, env.ErrorMsg)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("schematest: %s: data: %w", method, err)
	}
	return nil
}
