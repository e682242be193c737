package app

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// browser is a headless Chromium driven over the DevTools protocol. Tests
// using it skip when no Chromium is installed, except under CI=true, where
// .ci/run installs Debian's chromium and a missing browser is a failure.
type browser struct {
	ctx context.Context // a tab

	mu     sync.Mutex
	errors []string // uncaught exceptions and console.error calls
}

var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// startBrowser starts Chromium for the test. Without one it returns nil
// (outside CI; under CI=true it fails the test), and the browser checks
// skip with the reason.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	var path string
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium found (looked for %v); CI must install it: apt-get install -y chromium", chromiumNames)
		}
		t.Logf("browser checks skipped: no Chromium found (looked for %v); install it with: apt-get install -y chromium", chromiumNames)
		return nil
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	b := &browser{ctx: ctx}
	// The first action launches the browser; the browser lives as long as
	// the context of that action, so it gets the tab's own context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.mu.Lock()
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.errors = append(b.errors, fmt.Sprintf("%s (line %d)", msg, d.LineNumber))
			b.mu.Unlock()
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("console.error %v", ev.Args))
				b.mu.Unlock()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *browser) jsErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// load opens the dashboard and waits until its first refresh drew the stats.
func (b *browser) load(t *testing.T, g *gateway) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx,
		chromedp.Navigate("http://"+g.info.HTTPAddr+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="true"]`)),
	); err != nil {
		t.Fatalf("load /dashboard: %v", err)
	}
	return ctx
}

// screenshot saves the whole page as PNG in the test's temp dir and, when
// KWAISHOP_SCREENSHOT_DIR is set, there too.
func (b *browser) screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("KWAISHOP_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", p, len(png))
	}
}

const noBrowser = "no Chromium found; install it with: apt-get install -y chromium"

// checkEmpty: with no calls yet the page loads, says so, and throws nothing.
func (b *browser) checkEmpty(t *testing.T, g *gateway) {
	if b == nil {
		t.Skip(noBrowser)
	}
	ctx := b.load(t, g)
	calls, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("total-calls")))
	if err != nil {
		t.Fatal(err)
	}
	emptyShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("api-empty").hidden && document.querySelectorAll("#api-table tbody tr").length === 0`))
	if err != nil {
		t.Fatal(err)
	}
	if calls != "0" || !emptyShown {
		t.Fatalf("empty dashboard: calls %q, empty note shown %v", calls, emptyShown)
	}
	// The security-log panel drew /v1/security-logs/stats (off here).
	if seclog, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("seclog-panel").dataset.state + " " +
		document.getElementById("seclog-sent").textContent + " " + !document.getElementById("seclog-off").hidden`)); err != nil || seclog != "off 0 true" {
		t.Fatalf("security-log panel %q (%v), want off, 0 sent, the off note shown", seclog, err)
	}
	b.screenshot(t, ctx, "dashboard-empty.png")
	if errs := b.jsErrors(); len(errs) > 0 {
		t.Fatalf("JavaScript errors: %v", errs)
	}
}

type pageRow struct {
	Method   string `json:"method"`
	Calls    string `json:"calls"`
	Rate     string `json:"rate"`
	Failures string `json:"failures"`
}

// checkNumbers: the page shows exactly the numbers of /v1/stats/apis.
func (b *browser) checkNumbers(t *testing.T, g *gateway, st *gatewayv1.GetApiStatsResponse) {
	if b == nil {
		t.Skip(noBrowser)
	}
	ctx := b.load(t, g)
	text := func(id string) string {
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	total, totalRate, totalFailures := text("total-calls"), text("total-success-rate"), text("total-failures")
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]pageRow](`[...document.querySelectorAll("#api-table tbody tr")].map(tr => ({
		method: tr.dataset.method,
		calls: tr.querySelector('[data-field="calls"]').textContent,
		rate: tr.querySelector('[data-field="success_rate"]').textContent,
		failures: tr.querySelector('[data-field="failures"]').textContent}))`))
	if err != nil {
		t.Fatal(err)
	}
	classes, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("#class-table tr[data-class]")].map(tr =>
		[tr.dataset.class, tr.querySelector('[data-field="count"]').textContent]))`))
	if err != nil {
		t.Fatal(err)
	}
	pct := func(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }
	tot := st.GetTotal()
	if total != strconv.FormatInt(tot.GetCalls(), 10) || totalRate != pct(tot.GetSuccessRate()) || totalFailures != strconv.FormatInt(tot.GetFailures(), 10) {
		t.Errorf("page totals %s calls, %s, %s failures; stats %d, %s, %d", total, totalRate, totalFailures, tot.GetCalls(), pct(tot.GetSuccessRate()), tot.GetFailures())
	}
	if len(rows) != len(st.GetApis()) {
		t.Fatalf("page shows %d APIs, stats %d: %+v", len(rows), len(st.GetApis()), rows)
	}
	for i, a := range st.GetApis() {
		want := pageRow{a.GetMethod(), strconv.FormatInt(a.GetCalls(), 10), pct(a.GetSuccessRate()), strconv.FormatInt(a.GetFailures(), 10)}
		if rows[i] != want {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want)
		}
	}
	if len(classes) != len(tot.GetErrorsByClass()) {
		t.Errorf("page error classes %v, stats %v", classes, tot.GetErrorsByClass())
	}
	for _, c := range tot.GetErrorsByClass() {
		if classes[c.GetClass()] != strconv.FormatInt(c.GetCount(), 10) {
			t.Errorf("class %s: page %q, stats %d", c.GetClass(), classes[c.GetClass()], c.GetCount())
		}
	}
	b.screenshot(t, ctx, "dashboard.png")
	if errs := b.jsErrors(); len(errs) > 0 {
		t.Fatalf("JavaScript errors: %v", errs)
	}
}
