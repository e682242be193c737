package schema

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Writes. An API is a write when a segment of its name (after "open.")
// starts with one of writeVerbs and its last segment does not start with
// one of readNouns: open.item.delete and open.distribution.plan.add.promoter
// are writes, open.sms.send.result and open.distribution.seller.activity.
// apply.list reads. A write answers success: its booleans are true (a read's
// are drawn), and members reporting failures are empty, as in every answer.
var (
	writeVerbs = []string{
		"add", "adjust", "allocate", "append", "apply", "approve", "audit", "bind", "cancel", "close",
		"confirm", "correct", "create", "delete", "deliver", "disable", "edit", "handle", "new",
		"operation", "over", "pick", "publish", "refund", "reject", "review", "save", "send", "submit",
		"transfer", "unbind", "update", "upload", "withdraw",
	}
	readNouns = []string{
		"check", "count", "detail", "get", "info", "list", "query", "reason", "result", "search",
		"trend", "url", "view",
	}
)

func isWrite(name string) bool {
	segs := strings.Split(strings.TrimPrefix(name, "open."), ".")
	if slices.Contains(readNouns, word(segs[len(segs)-1])) {
		return false
	}
	return slices.ContainsFunc(segs, func(s string) bool { return slices.Contains(writeVerbs, word(s)) })
}

// word is a segment's first lowercase word (adjustActivityPromoter →
// adjust).
func word(seg string) string {
	for i, r := range seg {
		if r < 'a' || r > 'z' {
			return seg[:i]
		}
	}
	return seg
}

// applyWrite makes the writes whose records the emulator keeps visible to
// its reads: the seller addresses of open.address.seller.list. It runs
// under the shops' lock with the answer drawn (top, by member); a call that
// is not such a write changes nothing.
//
//	open.address.seller.create  adds the address under the answer's addressId
//	                            (the same params draw the same id: a repeated
//	                            create adds it once); addressType 2 or 3
//	open.address.seller.update  changes the shop's address addressId, if any
//	open.address.seller.delete  removes it, if any
//
// A defaultAddress clears the flag of the shop's other addresses of its type.
func applyWrite(name string, c *api.Call, top map[string]any) *api.Error {
	sh := c.Shop
	switch name {
	case "open.address.seller.create":
		typ, e := c.ReqInt("addressType")
		if e != nil {
			return e
		}
		if typ != shop.AddressReturn && typ != shop.AddressShipFrom {
			return api.BadParam("param.addressType must be 2 (return) or 3 (ship-from)")
		}
		data, _ := top["data"].(map[string]any)
		n, _ := data["addressId"].(json.Number)
		id, err := n.Int64()
		if err != nil { // the catalog's answer has an integer addressId
			return api.Err(rules.CodeParam, "the sandbox cannot create this address: %v", err)
		}
		if slices.ContainsFunc(sh.Addresses, func(a *shop.SellerAddress) bool { return a.AddressID == id }) {
			return nil
		}
		a := &shop.SellerAddress{AddressID: id, AddressType: int(typ)}
		if e := setAddress(c, a); e != nil {
			return e
		}
		sh.Addresses = append(sh.Addresses, a)
		keepOneDefault(sh, a)
	case "open.address.seller.update":
		id, e := c.ReqInt("addressId")
		if e != nil {
			return e
		}
		i := slices.IndexFunc(sh.Addresses, func(a *shop.SellerAddress) bool { return a.AddressID == id })
		if i < 0 {
			return nil
		}
		cp := *sh.Addresses[i]
		if e := setAddress(c, &cp); e != nil {
			return e
		}
		*sh.Addresses[i] = cp
		keepOneDefault(sh, sh.Addresses[i])
	case "open.address.seller.delete":
		id, e := c.ReqInt("addressId")
		if e != nil {
			return e
		}
		sh.Addresses = slices.DeleteFunc(sh.Addresses, func(a *shop.SellerAddress) bool { return a.AddressID == id })
	}
	return nil
}

// setAddress copies defaultAddress and baseInfo's fields of the params into a.
func setAddress(c *api.Call, a *shop.SellerAddress) *api.Error {
	def, e := c.Bool("defaultAddress")
	if e != nil {
		return e
	}
	m, _ := c.Param["baseInfo"].(map[string]any) // the catalog check made it an object
	b := &api.Call{Method: c.Method, Param: m}
	strs := []struct {
		key string
		to  *string
	}{{"consignee", &a.Consignee}, {"mobile", &a.Mobile}, {"province", &a.Province}, {"city", &a.City}, {"district", &a.District}, {"town", &a.Town}, {"address", &a.Address}}
	for _, f := range strs {
		v, e := b.Str(f.key)
		if e != nil {
			return e
		}
		*f.to = v
	}
	ints := []struct {
		key string
		to  *int
	}{{"provinceCode", &a.ProvinceCode}, {"cityCode", &a.CityCode}, {"districtCode", &a.DistrictCode}, {"townCode", &a.TownCode}}
	for _, f := range ints {
		v, e := b.OptInt(f.key, 0)
		if e != nil {
			return e
		}
		*f.to = int(v)
	}
	a.DefaultAddress = def
	return nil
}

func keepOneDefault(sh *shop.Shop, a *shop.SellerAddress) {
	if !a.DefaultAddress {
		return
	}
	for _, o := range sh.Addresses {
		if o != a && o.AddressType == a.AddressType {
			o.DefaultAddress = false
		}
	}
}
