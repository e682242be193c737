package emulated

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// Receiver data APIs (docs/sandbox.md, Emulated APIs): decrypt, desensitise
// and search index of an order's encrypted consignee, mobile and address.
// Each answers one result per entry, in request order, at the top level
// beside result [TS]; errorCode rules.SecurityItemOK for a success, else
// rules.DecryptItemFailed with an errorMsg. A ciphertext decrypts (or
// masks) only for the shop of its order: another shop's, an unknown order,
// or a ciphertext that is not one of the named order's fail per entry.

// Options are the emulations' settings.
type Options struct {
	// DecryptDailyEntries caps each shop's decrypted entries a day (days
	// of rules.QuotaZone); 0 = rules.DefaultDecryptDailyEntries, negative =
	// no cap. A call that would pass it is refused whole with the
	// platform's quota result (1017), like the daily call quotas.
	DecryptDailyEntries int
}

// Registry is the API emulations with their settings and the state the
// settings need (each shop's decrypts today). Lookup of the package uses
// the default Options.
type Registry struct {
	opts Options

	mu       sync.Mutex
	decrypts map[*shop.Shop]dayCount // under mu: handlers of different apps run under different shop locks
}

type dayCount struct {
	day string
	n   int
}

// New returns the emulations with o.
func New(o Options) *Registry {
	if o.DecryptDailyEntries == 0 {
		o.DecryptDailyEntries = rules.DefaultDecryptDailyEntries
	}
	return &Registry{opts: o, decrypts: map[*shop.Shop]dayCount{}}
}

// Lookup returns the emulation of an API.
func (r *Registry) Lookup(method string) (api.Handler, bool) {
	if method == "open.order.decrypt.batch" {
		return r.orderDecryptBatch, true
	}
	return Lookup(method)
}

// defaultRegistry serves the package's Lookup.
var defaultRegistry = New(Options{})

// orderDecryptBatch is the decrypt emulation with the default Options.
func orderDecryptBatch(c *api.Call) (any, *api.Error) { return defaultRegistry.orderDecryptBatch(c) }

// takeDecrypts counts n decrypted entries of the call's shop today, or
// refuses them all when they would pass the allowance.
func (r *Registry) takeDecrypts(c *api.Call, n int) *api.Error {
	if r.opts.DecryptDailyEntries < 0 {
		return nil
	}
	day := c.Now.In(rules.QuotaZone).Format("2006-01-02")
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.decrypts[c.Shop]
	if d.day != day {
		d = dayCount{day: day}
	}
	if d.n+n > r.opts.DecryptDailyEntries {
		return api.Err(platform.ResultQuotaExceeded, rules.MsgDecryptQuota, c.AppKey, c.Shop.User.SellerID, r.opts.DecryptDailyEntries)
	}
	d.n += n
	r.decrypts[c.Shop] = d
	return nil
}

// cipherEntry is one {bizId, encryptedData} of a decrypt or desensitise
// request.
type cipherEntry struct {
	bizID, enc string
}

// cipherEntries reads the list key (1 to rules.DecryptBatchMax entries).
func cipherEntries(c *api.Call, key string) ([]cipherEntry, *api.Error) {
	reqs, e := c.Objects(key)
	if e != nil {
		return nil, e
	}
	if len(reqs) == 0 || len(reqs) > rules.DecryptBatchMax {
		return nil, api.BadParam("param.%s must hold 1 to %d entries", key, rules.DecryptBatchMax)
	}
	out := make([]cipherEntry, len(reqs))
	for i, r := range reqs {
		biz, e := r.Str("bizId")
		if e != nil {
			return nil, e
		}
		enc, e := r.Str("encryptedData")
		if e != nil {
			return nil, e
		}
		out[i] = cipherEntry{bizID: biz, enc: enc}
	}
	return out, nil
}

// order is the calling shop's order the entry names, nil if none.
func (e cipherEntry) order(c *api.Call) *shop.Order {
	oid, err := strconv.ParseInt(strings.TrimSpace(e.bizID), 10, 64)
	if err != nil {
		return nil
	}
	return c.Shop.OrderByID[oid]
}

const msgNotOurs = "not a ciphertext of this order of the shop"

type decryptResult struct {
	BizID         string `json:"bizId"`
	EncryptedData string `json:"encryptedData"`
	DecryptedData string `json:"decryptedData"`
	ErrorCode     int    `json:"errorCode"`
	ErrorMsg      string `json:"errorMsg"`
}

// orderDecryptBatch: open.order.decrypt.batch. batchDecryptList[] of
// {bizId: order id, encryptedData}; the answer is batchDecryptResultList.
// Every entry counts against the shop's daily decrypt allowance.
func (r *Registry) orderDecryptBatch(c *api.Call) (any, *api.Error) {
	in, e := cipherEntries(c, "batchDecryptList")
	if e != nil {
		return nil, e
	}
	if e := r.takeDecrypts(c, len(in)); e != nil {
		return nil, e
	}
	out := make([]decryptResult, len(in))
	for i, en := range in {
		out[i] = decryptResult{BizID: en.bizID, EncryptedData: en.enc, ErrorCode: rules.SecurityItemOK}
		var plain string
		ok := false
		if o := en.order(c); o != nil {
			plain, ok = o.DecryptPII(en.enc)
		}
		if !ok {
			out[i].ErrorCode, out[i].ErrorMsg = rules.DecryptItemFailed, "decrypt failed: "+msgNotOurs
			continue
		}
		out[i].DecryptedData = plain
	}
	return api.TopLevel{"batchDecryptResultList": out}, nil
}

type desensitiseResult struct {
	BizID            string `json:"bizId"`
	EncryptedData    string `json:"encryptedData"`
	DesensitisedData string `json:"desensitisedData"`
	ErrorCode        int    `json:"errorCode"`
	ErrorMsg         string `json:"errorMsg"`
}

// orderDesensitiseBatch: open.order.desensitise.batch.
// batchDesensitiseList[] of {bizId, encryptedData}; the answer is
// batchDesensitiseResultList with the masked form the order carries
// (desensitiseConsignee, desensitiseMobile, desensitiseAddress).
func orderDesensitiseBatch(c *api.Call) (any, *api.Error) {
	in, e := cipherEntries(c, "batchDesensitiseList")
	if e != nil {
		return nil, e
	}
	out := make([]desensitiseResult, len(in))
	for i, en := range in {
		out[i] = desensitiseResult{BizID: en.bizID, EncryptedData: en.enc, ErrorCode: rules.SecurityItemOK}
		masked := ""
		if o := en.order(c); o != nil && en.enc != "" {
			switch a := &o.Address; en.enc {
			case a.EncryptedConsignee:
				masked = a.DesensitiseConsignee
			case a.EncryptedMobile:
				masked = a.DesensitiseMobile
			case a.EncryptedAddress:
				masked = a.DesensitiseAddress
			}
		}
		if masked == "" {
			out[i].ErrorCode, out[i].ErrorMsg = rules.DecryptItemFailed, "desensitise failed: "+msgNotOurs
			continue
		}
		out[i].DesensitisedData = masked
	}
	return api.TopLevel{"batchDesensitiseResultList": out}, nil
}

type indexResult struct {
	PlainText   string `json:"plainText"`
	SearchIndex string `json:"searchIndex"`
	ErrorCode   int    `json:"errorCode"`
	ErrorMsg    string `json:"errorMsg"`
}

// orderSearchIndexBatch: open.order.search.index.batch. indexParamList[]
// of {plainText, type: 1 address, 2 name, 3 phone}; the answer is
// indexResultList with SearchIndex of each. No API of the catalog searches
// orders by it; the index of an order's field is SearchIndex of its
// decrypted value (docs/security-service.md).
func orderSearchIndexBatch(c *api.Call) (any, *api.Error) {
	reqs, e := c.Objects("indexParamList")
	if e != nil {
		return nil, e
	}
	if len(reqs) == 0 || len(reqs) > rules.DecryptBatchMax {
		return nil, api.BadParam("param.indexParamList must hold 1 to %d entries", rules.DecryptBatchMax)
	}
	out := make([]indexResult, len(reqs))
	for i, q := range reqs {
		plain, e := q.Str("plainText")
		if e != nil {
			return nil, e
		}
		typ, e := q.ReqInt("type")
		if e != nil {
			return nil, e
		}
		out[i] = indexResult{PlainText: plain, ErrorCode: rules.SecurityItemOK}
		switch {
		case typ < 1 || typ > 3:
			out[i].ErrorCode, out[i].ErrorMsg = rules.DecryptItemFailed, "type must be 1 (address), 2 (name) or 3 (phone)"
		case strings.TrimSpace(plain) == "" || utf8.RuneCountInString(plain) > rules.SearchPlainMaxRunes:
			out[i].ErrorCode, out[i].ErrorMsg = rules.DecryptItemFailed, "plainText must hold 1 to "+strconv.Itoa(rules.SearchPlainMaxRunes)+" characters"
		default:
			out[i].SearchIndex = SearchIndex(c.Shop.User.SellerID, int(typ), plain)
		}
	}
	return api.TopLevel{"indexResultList": out}, nil
}

// SearchIndex is the sandbox's search index of a plaintext value of a
// receiver field (type 1 address, 2 name, 3 phone) for a seller:
// deterministic, the same for the same value, different across sellers and
// types, and not the value (a truncated SHA-256, as the platform's index
// is opaque).
func SearchIndex(sellerID int64, typ int, plain string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(sellerID, 10) + "\x00" + strconv.Itoa(typ) + "\x00" + plain))
	return "#" + base64.RawURLEncoding.EncodeToString(sum[:18]) + "#"
}
