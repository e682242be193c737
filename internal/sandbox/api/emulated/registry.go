// Package emulated answers the platform APIs the sandbox emulates by rule:
// each handler reads and changes the caller's seeded shop as the platform
// would, with the checks and answers docs/sandbox.md lists (Emulated APIs).
package emulated

import (
	"maps"
	"slices"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api"
)

// handlers is the registry of API emulations. The catalogued names missing
// here are answered from their schemas (package api/schema).
var handlers = map[string]api.Handler{
	"open.order.cursor.list":                       orderCursorList,
	"open.order.detail":                            orderDetail,
	"open.order.decrypt.batch":                     orderDecryptBatch,
	"open.order.desensitise.batch":                 orderDesensitiseBatch,
	"open.order.search.index.batch":                orderSearchIndexBatch,
	"open.seller.order.goods.deliver":              orderDeliver,
	"open.seller.order.logistics.update":           orderLogisticsUpdate,
	"open.seller.order.close":                      orderClose,
	"open.seller.order.note.add":                   orderNoteAdd,
	"open.item.list.get":                           itemList,
	"open.item.get":                                itemGet,
	"open.item.new":                                itemNew,
	"open.item.edit":                               itemEdit,
	"open.item.sku.stock.update":                   itemSkuStockUpdate,
	"open.item.sku.price.update":                   itemSkuPriceUpdate,
	"open.item.shelf.status.update":                itemShelfStatusUpdate,
	"open.item.category":                           categoryList,
	"open.item.category.suggested.get":             categorySuggest,
	"open.item.category.config":                    categoryConfig,
	"open.item.category.prop.value.search":         propValueSearch,
	"open.item.brand.list.get":                     brandList,
	"open.seller.order.refund.pcursor.list":        refundList,
	"open.seller.order.refund.detail":              refundDetail,
	"open.seller.order.refund.approve":             refundApprove,
	"open.seller.order.refund.returngoods.approve": refundReturnGoodsApprove,
	"open.seller.order.refund.confirm.receipt":     refundConfirmReceipt,
	"open.refund.reject":                           refundReject,
	"open.refund.reject.reason":                    refundRejectReason,
	"open.express.ebill.get":                       ebillGet,
	"open.express.ebill.cancel":                    ebillCancel,
	"open.logistics.express.template.list":         expressTemplateList,
	"open.address.seller.list":                     sellerAddressList,
	"open.shop.info.get":                           shopInfoGet,
	"open.user.seller.get":                         sellerGet,
	"open.security.log.order":                      securityLogOrder,
	"open.security.log.login":                      securityLogLogin,
	"open.security.log.open":                       securityLogOpen,
	"open.security.log.sql":                        securityLogSQL,
	"open.security.log.batch":                      securityLogBatch,
}

// Lookup returns the emulation of an API.
func Lookup(method string) (api.Handler, bool) {
	h, ok := handlers[method]
	return h, ok
}

// Names lists the API names emulated here, sorted.
func Names() []string {
	return slices.Sorted(maps.Keys(handlers))
}
