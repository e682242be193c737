package sandbox

import (
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/emulated"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/counters"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/faults"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/limits"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/oauth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/pusher"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/shop"
)

// The public names of the sandbox's parts, so callers need only this
// package.

type (
	// Counters are what the sandbox has seen, for tests and the admin API.
	Counters = counters.Counters
	// TestUser is one of the app's test users: a Kuaishou account that may
	// authorize the app before it is online. Each main account owns one
	// seeded shop; a sub-account (MainID set) works on its main account's.
	TestUser = shop.TestUser
	// SecurityLogEntry is one entry reported through open.security.log.*.
	SecurityLogEntry = emulated.SecurityLogEntry
	// StaffInfo is open.user.seller.get's staffInfo of a sub-account.
	StaffInfo = shop.StaffInfo
	// ServiceOrder is a merchant's service-market order of a third-party
	// app's service.
	ServiceOrder = oauth.ServiceOrder
	// OrderSpec describes an order to create (POST /sandbox/v1/orders).
	OrderSpec = shop.OrderSpec
	// RefundSpec describes an after-sale request (POST /sandbox/v1/refunds).
	RefundSpec = shop.RefundSpec
	// Limits are the platform's call limits; in every field 0 means the
	// platform's default and a negative value means no limit.
	Limits = limits.Limits
	// Usage is what the limits have counted so far (today = the sandbox
	// clock's day in UTC+8).
	Usage = limits.Usage
	// Fault is one injected failure (POST /sandbox/v1/faults).
	Fault = faults.Fault
	// PusherSettings are the pusher's switches (GET/POST /sandbox/v1/pusher).
	PusherSettings = pusher.Settings
	// PusherUpdate changes some pusher settings; nil fields keep their value.
	PusherUpdate = pusher.Update
	// PusherStatus is the pusher's settings plus what it has done.
	PusherStatus = pusher.Status
	// Push is one message and its delivery record.
	Push = pusher.Push
	// PushAttempt is one POST of a message.
	PushAttempt = pusher.Attempt
)

var (
	// ErrInvalidConfig is wrapped by every Config.Validate violation and
	// every refused setting.
	ErrInvalidConfig = rules.ErrInvalidConfig
	// ErrTestUserLimit is returned when a sixth test user is added.
	ErrTestUserLimit = shop.ErrTestUserLimit
	// ErrSubAccountLimit is returned beyond MaxSubAccounts sub-accounts of
	// one main account.
	ErrSubAccountLimit = shop.ErrSubAccountLimit
	// ErrConsoleCodes is returned by IssueCode for a third-party app that is
	// online: the console issues codes only for self-use apps and apps in
	// test state.
	ErrConsoleCodes = oauth.ErrConsoleCodes
	// ErrNotThirdParty is returned for service-market actions on a
	// self-use app.
	ErrNotThirdParty = oauth.ErrNotThirdParty
	// ErrNotOrdered is returned by UseService without a live order.
	ErrNotOrdered = oauth.ErrNotOrdered
	// ErrNoCallback is returned by UseService for an app without a
	// callback URL.
	ErrNoCallback = oauth.ErrNoCallback
	// ErrUnknownTestUser is returned for a test user id or openId the app does not have.
	ErrUnknownTestUser = shop.ErrUnknownTestUser
	// ErrInvalidScope is returned for scopes the app does not hold.
	ErrInvalidScope = oauth.ErrInvalidScope
	// ErrNotFound is returned for an order or refund id no shop has.
	ErrNotFound = shop.ErrNotFound
	// ErrState is returned when the record's status does not allow the change.
	ErrState = shop.ErrState
	// ErrInvalidRequest wraps every other refusal of bad input.
	ErrInvalidRequest = shop.ErrInvalidRequest
)

// Defaults (package rules).
const (
	DefaultTimestampWindow      = rules.DefaultTimestampWindow
	DefaultRefreshGrace         = rules.DefaultRefreshGrace
	NoRefreshGrace              = rules.NoRefreshGrace
	DefaultTestAuthorizationTTL = rules.DefaultTestAuthorizationTTL
	DefaultHeartbeatInterval    = rules.DefaultHeartbeatInterval
	DefaultTestUserDailyCalls   = rules.DefaultTestUserDailyCalls
	DefaultAppDailyCallsTest    = rules.DefaultAppDailyCallsTest
	DefaultAppDailyCallsOnline  = rules.DefaultAppDailyCallsOnline
	DefaultAPIQPS               = rules.DefaultAPIQPS
	DefaultServicePeriod        = rules.DefaultServicePeriod
	MaxSubAccounts              = rules.MaxSubAccounts
)

// App states and types.
const (
	AppStateTest      = rules.AppStateTest
	AppStateOnline    = rules.AppStateOnline
	AppTypeSelfUse    = rules.AppTypeSelfUse
	AppTypeThirdParty = rules.AppTypeThirdParty
)

// Push statuses.
const (
	PushPending   = rules.PushPending
	PushDelivered = rules.PushDelivered
	PushFailed    = rules.PushFailed
	PushDropped   = rules.PushDropped
)

// Event names of pushed messages.
const (
	EventOrderAdd        = rules.EventOrderAdd
	EventOrderPaid       = rules.EventOrderPaid
	EventOrderDelivering = rules.EventOrderDelivering
	EventOrderDelivered  = rules.EventOrderDelivered
	EventOrderSuccess    = rules.EventOrderSuccess
	EventOrderFail       = rules.EventOrderFail
	EventOrderAddress    = rules.EventOrderAddress
	EventRefundAdd       = rules.EventRefundAdd
	EventRefundUpdate    = rules.EventRefundUpdate
	EventItemAdd         = rules.EventItemAdd
	EventItemUpdate      = rules.EventItemUpdate
	EventItemStock       = rules.EventItemStock
	EventItemPrice       = rules.EventItemPrice
	EventItemShelf       = rules.EventItemShelf
)

// Fault kinds.
const (
	FaultResult    = rules.FaultResult
	FaultHTTP5xx   = rules.FaultHTTP5xx
	FaultDelay     = rules.FaultDelay
	FaultMalformed = rules.FaultMalformed
	FaultDrop      = rules.FaultDrop
)

// EmulatedAPIs lists the API names the sandbox emulates, sorted.
func EmulatedAPIs() []string { return emulated.Names() }
