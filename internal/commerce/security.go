package commerce

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Receiver data APIs (the platform's data security rules; docs/security-service.md).
// Their answers carry plaintext: nothing here logs, keeps or wraps a value
// in an error, and the platform's per-entry errorMsg is passed on as the
// platform wrote it, never with the entry's data.
const (
	apiDecryptBatch     = "open.order.decrypt.batch"
	apiDesensitiseBatch = "open.order.desensitise.batch"
	apiSearchIndexBatch = "open.order.search.index.batch"

	// SecurityBatchMax is the platform's entries per request of the three
	// APIs (the catalog's maxItems).
	SecurityBatchMax = 100
	// securityInFlight is how many of one batch's platform requests are in
	// flight at once: enough to hide latency, few enough to leave the
	// shop's QPS and the gateway's client limits to other callers.
	securityInFlight = 4
)

// ReceiverDataAPI reports whether method is one of the platform APIs behind
// SecurityService, whose answers carry receivers' plaintext or its derived
// forms; the name is compared ignoring case, as a caller may spell it.
func ReceiverDataAPI(method string) bool {
	switch strings.ToLower(method) {
	case apiDecryptBatch, apiDesensitiseBatch, apiSearchIndexBatch:
		return true
	}
	return false
}

// ReceiverField is a receiver field of an order; the values are the
// platform's data types (type: 1 address, 2 name, 3 phone).
type ReceiverField int32

// Receiver fields.
const (
	ReceiverAddress ReceiverField = 1
	ReceiverName    ReceiverField = 2
	ReceiverPhone   ReceiverField = 3
)

// Ciphertext is one encrypted receiver field of an order.
type Ciphertext struct {
	OrderID    int64
	Ciphertext string
	Field      ReceiverField
}

// SearchInput is a plaintext value to index as a receiver field.
type SearchInput struct {
	Plaintext string
	Field     ReceiverField
}

// EntryResult is the result of one entry of a batch: Value, or Err.
// Err is a *EntryError (the platform refused this entry) or the error of
// the platform request that carried the entry (*platform.Error, ...).
type EntryResult struct {
	Value string
	Err   error
}

// EntryError is the platform's refusal of one entry: its errorCode and
// errorMsg (which describe the entry, never hold its data).
type EntryError struct {
	Code int64
	Msg  string
}

func (e *EntryError) Error() string {
	return "commerce: entry refused by the platform (errorCode " + strconv.FormatInt(e.Code, 10) + "): " + e.Msg
}

// platformEntry is one result of the three APIs: the platform documents
// errorCode 1 as success, the TypeScript SDK's examples show 0; both are
// taken as success.
type platformEntry struct {
	ErrorCode        i64 `json:"errorCode"`
	ErrorMsg         str `json:"errorMsg"`
	DecryptedData    str `json:"decryptedData"`
	DesensitisedData str `json:"desensitisedData"`
	SearchIndex      str `json:"searchIndex"`
}

func (p *platformEntry) result(value string) EntryResult {
	if c := int64(p.ErrorCode); c != 0 && c != 1 {
		return EntryResult{Err: &EntryError{Code: c, Msg: string(p.ErrorMsg)}}
	}
	return EntryResult{Value: value}
}

// DecryptReceivers decrypts ciphertexts with open.order.decrypt.batch,
// 100 a request. The results are in the order of in.
func (s Shop) DecryptReceivers(ctx context.Context, in []Ciphertext) []EntryResult {
	return batches(ctx, len(in), func(ctx context.Context, lo, hi int) ([]EntryResult, error) {
		return s.entries(ctx, apiDecryptBatch, "batchDecryptList", ciphertextList(in[lo:hi]), "batchDecryptResultList",
			func(p *platformEntry) string { return string(p.DecryptedData) })
	})
}

// DesensitiseReceivers masks ciphertexts with open.order.desensitise.batch,
// 100 a request. The results are in the order of in.
func (s Shop) DesensitiseReceivers(ctx context.Context, in []Ciphertext) []EntryResult {
	return batches(ctx, len(in), func(ctx context.Context, lo, hi int) ([]EntryResult, error) {
		return s.entries(ctx, apiDesensitiseBatch, "batchDesensitiseList", ciphertextList(in[lo:hi]), "batchDesensitiseResultList",
			func(p *platformEntry) string { return string(p.DesensitisedData) })
	})
}

// ciphertextList is the platform's list of ciphertexts to decrypt or mask.
func ciphertextList(cs []Ciphertext) []map[string]string {
	list := make([]map[string]string, 0, len(cs))
	for _, c := range cs {
		list = append(list, map[string]string{"bizId": strconv.FormatInt(c.OrderID, 10), "encryptedData": c.Ciphertext})
	}
	return list
}

// SearchIndexes gets the search index strings of plaintext values with
// open.order.search.index.batch, 100 a request. The results are in the
// order of in.
func (s Shop) SearchIndexes(ctx context.Context, in []SearchInput) []EntryResult {
	return batches(ctx, len(in), func(ctx context.Context, lo, hi int) ([]EntryResult, error) {
		list := make([]map[string]any, 0, hi-lo)
		for _, v := range in[lo:hi] {
			list = append(list, map[string]any{"plainText": v.Plaintext, "type": int32(v.Field)})
		}
		return s.entries(ctx, apiSearchIndexBatch, "indexParamList", list, "indexResultList",
			func(p *platformEntry) string { return string(p.SearchIndex) })
	})
}

// entries sends one request of a batch API (its list under param listKey)
// and reads the top-level member resultKey: one result per entry, in
// order. A result list of another length is an upstream failure.
func (s Shop) entries(ctx context.Context, method, listKey string, list any, resultKey string,
	value func(*platformEntry) string) ([]EntryResult, error) {
	resp, err := s.send(ctx, method, "", map[string]any{listKey: list})
	if err != nil {
		return nil, err
	}
	var got []platformEntry
	if err := decode(resultList(resp, resultKey), &got); err != nil {
		return nil, badData(resp, method, err)
	}
	n := listLen(list)
	if len(got) != n {
		return nil, &platform.Error{
			Method: method, Class: platform.ClassUpstream, RequestID: resp.RequestID, HTTPStatus: resp.HTTPStatus,
			Msg: "response has " + strconv.Itoa(len(got)) + " results for " + strconv.Itoa(n) + " entries",
		}
	}
	out := make([]EntryResult, n)
	for i := range got {
		out[i] = got[i].result(value(&got[i]))
	}
	return out, nil
}

// resultList is the member name of the answer: top-level beside result (as
// the catalog documents these APIs), else under data.
func resultList(resp *platform.Response, name string) json.RawMessage {
	for _, body := range []json.RawMessage{resp.Raw, resp.Data} {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) == nil {
			if v, ok := obj[name]; ok {
				return v
			}
		}
	}
	return nil
}

func listLen(list any) int {
	switch l := list.(type) {
	case []map[string]string:
		return len(l)
	case []map[string]any:
		return len(l)
	}
	return 0
}

// batches runs call over [0, n) in chunks of SecurityBatchMax, at most
// securityInFlight at once, and puts each chunk's results in place; a
// failed chunk gives each of its entries the chunk's error. Once ctx ends,
// the chunks not yet sent get its error.
func batches(ctx context.Context, n int, call func(ctx context.Context, lo, hi int) ([]EntryResult, error)) []EntryResult {
	out := make([]EntryResult, n)
	sem := make(chan struct{}, securityInFlight)
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += SecurityBatchMax {
		hi := min(lo+SecurityBatchMax, n)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			fail(out[lo:hi], ctx.Err())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := call(ctx, lo, hi)
			if err != nil {
				fail(out[lo:hi], err)
				return
			}
			copy(out[lo:hi], res)
		}()
	}
	wg.Wait()
	return out
}

func fail(rs []EntryResult, err error) {
	for i := range rs {
		rs[i] = EntryResult{Err: err}
	}
}
