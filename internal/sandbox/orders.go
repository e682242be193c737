package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Order APIs (docs/sandbox.md, Emulated APIs).

var orderStatusNames = map[int]string{
	orderUnpaid: "待付款", orderPaid: "已付款", orderShipped: "已发货",
	orderReceived: "已签收", orderSucceeded: "交易成功", orderClosed: "交易关闭",
}

// pageKey positions a record in a listing sorted by (time, id).
type pageKey struct{ t, id int64 }

// encodeCursor makes the opaque cursor of a page's last record. Paging by
// key (not by offset) is stable: records created while paging never shift
// the window, so a window is returned exactly once.
func encodeCursor(k pageKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.t, 10) + "_" + strconv.FormatInt(k.id, 10)))
}

func decodeCursor(c string) (pageKey, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return pageKey{}, false
	}
	ts, ids, ok := strings.Cut(string(b), "_")
	if !ok {
		return pageKey{}, false
	}
	t, err1 := strconv.ParseInt(ts, 10, 64)
	id, err2 := strconv.ParseInt(ids, 10, 64)
	return pageKey{t, id}, err1 == nil && err2 == nil
}

// pageByKey sorts recs by key (descending if desc), skips past cursor and
// returns one page plus the next cursor (cursorEnd when nothing follows).
func pageByKey[T any](recs []T, key func(T) pageKey, desc bool, cursor string, size int) ([]T, string, *apiError) {
	cmp := func(a, b pageKey) int {
		c := cmpKey(a.t, a.id, b.t, b.id)
		if desc {
			return -c
		}
		return c
	}
	slices.SortFunc(recs, func(a, b T) int { return cmp(key(a), key(b)) })
	switch cursor {
	case "", "0": // first page ([GO1]: "" or "0")
	case cursorEnd:
		return recs[:0], cursorEnd, nil
	default:
		after, ok := decodeCursor(cursor)
		if !ok {
			return nil, "", badParam("cursor invalid: pass \"\" for the first page, then the cursor of the previous answer")
		}
		i, _ := slices.BinarySearchFunc(recs, after, func(r T, k pageKey) int { return cmp(key(r), k) })
		for i < len(recs) && cmp(key(recs[i]), after) <= 0 {
			i++
		}
		recs = recs[i:]
	}
	if len(recs) <= size {
		return recs, cursorEnd, nil
	}
	return recs[:size], encodeCursor(key(recs[size-1])), nil
}

type orderListData struct {
	Cursor    string   `json:"cursor"`
	OrderList []*order `json:"orderList"`
	PageSize  int64    `json:"pageSize"`
	BeginTime int64    `json:"beginTime"`
	EndTime   int64    `json:"endTime"`
}

// orderCursorList: open.order.cursor.list. Orders whose create (queryType 1)
// or update (2) time is in [beginTime, endTime), newest first (sort 1) or
// oldest first (2), filtered by orderViewStatus.
func orderCursorList(c *call) (any, *apiError) {
	begin, end, e := c.timeRange(orderWindowMax, "7 days")
	if e != nil {
		return nil, e
	}
	pageSize, e := c.intIn("pageSize", orderPageSizeDefault, 1, orderPageSizeMax)
	if e != nil {
		return nil, e
	}
	view, e := c.intIn("orderViewStatus", 1, 1, 7)
	if e != nil {
		return nil, e
	}
	queryType, e := c.intIn("queryType", 1, 1, 2)
	if e != nil {
		return nil, e
	}
	sortOrder, e := c.intIn("sort", 1, 1, 2)
	if e != nil {
		return nil, e
	}
	if _, e := c.optInt("cpsType", 0); e != nil { // accepted, no distribution orders are seeded
		return nil, e
	}
	cursor, e := c.str("cursor")
	if e != nil {
		return nil, e
	}
	key := func(o *order) pageKey {
		if queryType == 2 {
			return pageKey{o.BaseInfo.UpdateTime, o.BaseInfo.Oid}
		}
		return pageKey{o.BaseInfo.CreateTime, o.BaseInfo.Oid}
	}
	var recs []*order
	for _, o := range c.shop.orders {
		if t := key(o).t; t < begin || t >= end {
			continue
		}
		if want, ok := orderViewStatus[view]; ok && o.BaseInfo.Status != want {
			continue
		}
		recs = append(recs, o)
	}
	page, next, e := pageByKey(recs, key, sortOrder == 1, cursor, int(pageSize))
	if e != nil {
		return nil, e
	}
	if page == nil {
		page = []*order{}
	}
	return &orderListData{Cursor: next, OrderList: page, PageSize: pageSize, BeginTime: begin, EndTime: end}, nil
}

// orderOf finds an order of the calling shop. Unknown orders and orders of
// other shops both answer 21 "order operation reject" [K1006].
func orderOf(c *call, key string) (*order, *apiError) {
	oid, e := c.reqInt(key)
	if e != nil {
		return nil, e
	}
	o, ok := c.shop.orderByID[oid]
	if !ok {
		return nil, apiErr(codeOrderReject, "order operation reject")
	}
	return o, nil
}

// orderDetail: open.order.detail (param oid).
func orderDetail(c *call) (any, *apiError) {
	return orderOf(c, "oid")
}

// orderDeliver: open.seller.order.goods.deliver. Only a paid order (30)
// ships; it becomes 40 with the logistics record. No data in the answer.
func orderDeliver(c *call) (any, *apiError) {
	o, e := orderOf(c, "orderId")
	if e != nil {
		return nil, e
	}
	code, e := c.reqInt("expressCode")
	if e != nil {
		return nil, e
	}
	if code <= 0 {
		return nil, badParam("param.expressCode must be a platform carrier code (物流公司编号)")
	}
	no, e := c.str("expressNo")
	if e != nil {
		return nil, e
	}
	no = strings.TrimSpace(no)
	if no == "" || len(no) > 64 {
		return nil, badParam("param.expressNo is required (at most 64 characters)")
	}
	b := &o.BaseInfo
	if b.Status != orderPaid {
		return nil, apiErr(codeOrderState, "order %d is %d (%s): only paid orders (30 %s) can be shipped",
			b.Oid, b.Status, orderStatusNames[b.Status], orderStatusNames[orderPaid])
	}
	c.shop.nextID++
	now := ms(c.now)
	o.LogisticsInfo = append(o.LogisticsInfo, orderLogistics{LogisticsID: c.shop.nextID, ExpressNo: no, ExpressCode: code})
	o.DeliveryInfo = orderDeliveryInfo{DeliveryStatus: 1, DeliveryNum: 1, PackageNum: 1}
	b.Status, b.SendTime, b.UpdateTime = orderShipped, now, now
	c.sb.orderEventLocked(c.shop, o, EventOrderDelivering, c.now)
	return nil, nil
}

// orderClose: open.seller.order.close. Only an unpaid order (10) closes.
func orderClose(c *call) (any, *apiError) {
	o, e := orderOf(c, "orderId")
	if e != nil {
		return nil, e
	}
	b := &o.BaseInfo
	if b.Status != orderUnpaid {
		return nil, apiErr(codeOrderState, "order %d is %d (%s): only unpaid orders (10 %s) can be closed",
			b.Oid, b.Status, orderStatusNames[b.Status], orderStatusNames[orderUnpaid])
	}
	b.Status, b.UpdateTime = orderClosed, ms(c.now)
	c.sb.orderEventLocked(c.shop, o, EventOrderFail, c.now)
	return nil, nil
}

// orderNoteAdd: open.seller.order.note.add (note <= 200 characters, flag 0-6).
func orderNoteAdd(c *call) (any, *apiError) {
	o, e := orderOf(c, "orderId")
	if e != nil {
		return nil, e
	}
	note, e := c.str("note")
	if e != nil {
		return nil, e
	}
	if utf8.RuneCountInString(note) > noteMaxRunes {
		return nil, badParam("param.note must be at most %d characters", noteMaxRunes)
	}
	flag, e := c.optInt("flag", 0)
	if e != nil {
		return nil, e
	}
	if flag < 0 || flag > 6 {
		return nil, badParam("param.flag must be between 0 and 6")
	}
	o.Note.OrderNoteInfo = append(o.Note.OrderNoteInfo, orderNoteInfo{Note: note, Flag: int(flag), CreateTime: ms(c.now)})
	return nil, nil
}

// orderLogisticsUpdate: open.seller.order.logistics.update. Changes the
// carrier and tracking number of a shipped order (40): the record named by
// logisticsId, else the latest. No data in the answer, no message.
func orderLogisticsUpdate(c *call) (any, *apiError) {
	o, e := orderOf(c, "orderId")
	if e != nil {
		return nil, e
	}
	code, e := c.reqInt("expressCode")
	if e != nil {
		return nil, e
	}
	if code <= 0 {
		return nil, badParam("param.expressCode must be a platform carrier code (物流公司编号)")
	}
	no, e := c.str("expressNo")
	if e != nil {
		return nil, e
	}
	if no = strings.TrimSpace(no); no == "" || len(no) > 64 {
		return nil, badParam("param.expressNo is required (at most 64 characters)")
	}
	lid, e := c.optInt("logisticsId", 0)
	if e != nil {
		return nil, e
	}
	b := &o.BaseInfo
	if b.Status != orderShipped || len(o.LogisticsInfo) == 0 {
		return nil, apiErr(codeOrderState, "order %d is %d (%s): only shipped orders (40 %s) can change logistics",
			b.Oid, b.Status, orderStatusNames[b.Status], orderStatusNames[orderShipped])
	}
	i := len(o.LogisticsInfo) - 1
	if lid != 0 {
		i = slices.IndexFunc(o.LogisticsInfo, func(l orderLogistics) bool { return l.LogisticsID == lid })
		if i < 0 {
			return nil, badParam("param.logisticsId %d is not a logistics record of order %d", lid, b.Oid)
		}
	}
	o.LogisticsInfo[i].ExpressCode, o.LogisticsInfo[i].ExpressNo = code, no
	b.UpdateTime = ms(c.now)
	return nil, nil
}

type decryptResult struct {
	BizID         string `json:"bizId"`
	EncryptedData string `json:"encryptedData"`
	DecryptedData string `json:"decryptedData"`
	ErrorCode     int    `json:"errorCode"`
	ErrorMsg      string `json:"errorMsg"`
}

// orderDecryptBatch: open.order.decrypt.batch. batchDecryptList[] (at most
// 100) of {bizId: order id, encryptedData}; the answer is the top-level
// batchDecryptResultList [TS] with one entry per request, errorCode 0 when
// decrypted. Only ciphertexts of the calling shop's order decrypt.
func orderDecryptBatch(c *call) (any, *apiError) {
	reqs, e := c.objects("batchDecryptList")
	if e != nil {
		return nil, e
	}
	if len(reqs) == 0 || len(reqs) > decryptBatchMax {
		return nil, badParam("param.batchDecryptList must hold 1 to %d entries", decryptBatchMax)
	}
	out := make([]decryptResult, len(reqs))
	for i, r := range reqs {
		biz, e := r.str("bizId")
		if e != nil {
			return nil, e
		}
		enc, e := r.str("encryptedData")
		if e != nil {
			return nil, e
		}
		out[i] = decryptResult{BizID: biz, EncryptedData: enc}
		oid, err := strconv.ParseInt(strings.TrimSpace(biz), 10, 64)
		var plain string
		ok := false
		if o := c.shop.orderByID[oid]; err == nil && o != nil {
			plain, ok = decryptPII(o, enc)
		}
		if !ok {
			out[i].ErrorCode, out[i].ErrorMsg = decryptItemFailed, "decrypt failed: not a ciphertext of this order"
			continue
		}
		out[i].DecryptedData = plain
	}
	return topLevel{"batchDecryptResultList": out}, nil
}

var (
	givenNames = []string{"伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "杰", "婷", "涛"}
	streets    = []string{"建设路", "人民路", "中山路", "解放路", "和平街", "新华路", "文化路", "长江路"}
)

// decryptPII is the plaintext behind an order's encrypted consignee,
// mobile or address, derived from the ciphertext and consistent with the
// desensitised fields (surname, mobile prefix and tail, region).
func decryptPII(o *order, enc string) (string, bool) {
	a := &o.Address
	if enc == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(enc))
	h := binary.BigEndian.Uint64(sum[:8])
	switch enc {
	case a.EncryptedConsignee:
		surname, _ := utf8.DecodeRuneInString(a.DesensitiseConsignee)
		return string(surname) + givenNames[h%uint64(len(givenNames))], true
	case a.EncryptedMobile:
		return strings.Replace(a.DesensitiseMobile, "****", fmt.Sprintf("%04d", h%10000), 1), true
	case a.EncryptedAddress:
		return fmt.Sprintf("%s%s%s%s%s%d号", a.Province, a.City, a.District, a.Town, streets[h%uint64(len(streets))], h%300+1), true
	}
	return "", false
}
