package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/testenv"
	"github.com/dtecl/pipeline/tools/siisim"
)

// ScreenshotsVar names the folder the dashboard test saves its screenshots
// in (default: the test's artifact directory, kept with go test -artifacts).
const ScreenshotsVar = "DTE_SCREENSHOTS"

// chromiumPath finds Debian's chromium (DTE_CHROMIUM overrides).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DTE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "no chromium on PATH (Debian: apt-get install chromium; or set DTE_CHROMIUM)")
	return ""
}

// browser starts a headless chromium with a fresh profile and returns a
// context for its first tab.
func browser(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1700),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshots saves full-page screenshots of a tab.
type screenshots struct {
	t   *testing.T
	dir string
}

func newScreenshots(t *testing.T) screenshots {
	dir := os.Getenv(ScreenshotsVar)
	if dir == "" {
		dir = t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return screenshots{t: t, dir: dir}
}

func (s screenshots) take(ctx context.Context, name string) {
	s.t.Helper()
	s.save(ctx, name, chromedp.FullScreenshot(100))
}

// takeViewport saves what the window shows (a long XML's full page would
// be thousands of pixels wide).
func (s screenshots) takeViewport(ctx context.Context, name string) {
	s.t.Helper()
	s.save(ctx, name, chromedp.CaptureScreenshot())
}

func (s screenshots) save(ctx context.Context, name string, shot chromedp.Action[[]byte]) {
	s.t.Helper()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(s.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("screenshot: %s", path)
}

// pollJS waits until the expression is true in the page.
func pollJS(t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[document.getElementById("feed-note")?.textContent, "counts: " + document.getElementById("counts")?.textContent,
		  "results: " + document.getElementById("results")?.innerText, "document: " + document.getElementById("doc")?.innerText].join("\n")`))
		t.Fatalf("waited %s for %s: %v\npage: %s", timeout, what, err, state)
	}
}

// countJS reads a status count from the page (es-CL digits: 1.234).
func countJS(status string) string {
	return `Number((document.getElementById("count-` + status + `")?.textContent || "").replace(/\D/g, ""))`
}

// TestDashboardInBrowser drives the dashboard in Debian's chromium against
// the local stack: the operator logs in; documents sent to enqueue move the
// counts without a reload (server-sent events); a search by folio shows a
// document's history and opens its signed XML from the archive; a dead
// letter (the SII refusing every upload) appears with its reason and is
// replayed from the page, after which the document is accepted. The
// screenshots are saved (DTE_SCREENSHOTS, or the test's artifact folder).
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	shots := newScreenshots(t)
	const token = "e2e-operator-token"
	// A short retry budget: the document the SII keeps refusing is given
	// up (dead-lettered) within seconds instead of 24 h.
	retry := []string{"SLOW_RETRY_DELAYS=2s", "RETRY_BUDGET=8s"}
	s := newStack(t, stackOptions{dashboardToken: token, functionEnv: map[string][]string{"submit": retry}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tab := browser(t, ctx)

	// Log in as the operator.
	if err := chromedp.Do(tab,
		chromedp.Navigate(s.DashboardURL+"login"),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("counts")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	role, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.ID("role"), "data-role"))
	if err != nil || role.Value != "operator" {
		t.Fatalf("after logging in the page says role %q (%v), want operator", role.Value, err)
	}
	// The projection was rebuilt from the archive (empty at start) and the
	// feed is connected, live.
	pollJS(t, tab, "the rebuild and the live feed", `document.getElementById("feed-note").textContent.includes("reconstruido desde el archivo") && document.getElementById("feed-note").textContent.includes("conectada") && document.getElementById("live").dataset.state === "open"`, 60*time.Second)
	// A mark that a reload would erase.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](`window.__noReload = 42`)); err != nil {
		t.Fatal(err)
	}
	base, err := chromedp.Run(tab, chromedp.Evaluate[int](countJS("accepted")))
	if err != nil {
		t.Fatal(err)
	}

	// Two documents through the pipeline; the counts move by themselves.
	folio := 20_000 + rand.Int64N(70_000)
	factura := s.request(33, func(m map[string]any) { m["document"].(map[string]any)["folio"] = folio })
	exenta := s.request(34, nil)
	s.send(factura)
	s.send(exenta)
	pollJS(t, tab, "2 more accepted documents on the page", fmt.Sprintf(`%s >= %d`, countJS("accepted"), base+2), settleTimeout)
	shots.take(tab, "dashboard-live")
	s.waitStatus("accepted", factura, exenta)

	// Find the factura by its folio; its history and its signed XML.
	if err := chromedp.Do(tab,
		chromedp.SetValue(chromedp.ID("q"), strconv.FormatInt(folio, 10)),
		chromedp.Click(chromedp.ID("search-go")),
	); err != nil {
		t.Fatal(err)
	}
	pollJS(t, tab, "the document found by folio", `(document.getElementById("doc-title")?.textContent || "").includes("`+factura.key.String()+`")`, 20*time.Second)
	history, err := chromedp.Run(tab, chromedp.Text(chromedp.ID("doc-history")))
	if err != nil {
		t.Fatal(err)
	}
	xmlURL, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("link-dte").href`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"solicitado", "firmado", "enviado", "veredicto", "Aceptado"} {
		if !strings.Contains(history, want) {
			t.Errorf("the history shown lacks %q:\n%s", want, history)
		}
	}
	shots.take(tab, "dashboard-search")
	xmlTab, closeXML := chromedp.NewContext(tab)
	defer closeXML()
	if err := chromedp.Do(xmlTab, chromedp.Navigate(xmlURL)); err != nil {
		t.Fatalf("open the signed XML %s: %v", xmlURL, err)
	}
	xml, err := chromedp.Run(xmlTab, chromedp.Evaluate[string](`new XMLSerializer().serializeToString(document)`))
	if err != nil {
		t.Fatalf("read the signed XML %s: %v", xmlURL, err)
	}
	want := s.document("dte/" + s.issuer.String() + "/33/" + strconv.FormatInt(folio, 10) + ".xml")
	for _, part := range []string{"<Folio>" + strconv.FormatInt(folio, 10) + "</Folio>", "<SignatureValue>", "<TED "} {
		if !strings.Contains(xml, part) {
			t.Errorf("the signed XML opened from the page lacks %q (%d bytes; archive has %d)", part, len(xml), len(want))
		}
	}
	shots.takeViewport(xmlTab, "dashboard-signed-xml")
	closeXML()

	// A dead letter: the SII refuses every upload of the next document
	// (the page shows it retrying, then dead once its budget is spent).
	if err := s.SII.SetFaults(siisim.Faults{Fail5xx: 1000, Ops: []string{siisim.OpUpload}}); err != nil {
		t.Fatal(err)
	}
	guia := s.request(52, nil)
	s.send(guia)
	row := `#dead tr[data-dtekey="` + guia.key.String() + `"]`
	pollJS(t, tab, "the dead letter on the page", `!!document.querySelector('`+row+`')`, settleTimeout)
	reason, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(row+` td.reason`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reason, "retry budget exhausted") || !strings.Contains(reason, "upload") {
		t.Errorf("the dead letter's reason on the page is %q; want the spent retry budget of the upload", reason)
	}
	waitFor(t, settleTimeout, "the dead letter parked", func() (bool, string) {
		n := queueDepth(t, s.amqpURL, bus.QueueDeadParked)
		return n == 1, fmt.Sprintf("%d parked", n)
	})
	shots.take(tab, "dashboard-dead-letter")
	s.SII.ClearFaults()
	// Clicked from the page's own script: the live page re-renders its
	// tables as events arrive, and a click at the button's coordinates can
	// land on whatever moved there in between.
	clicked, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => { const b = document.querySelector('`+row+` button.replay'); if (!b) return false; b.click(); return true })()`))
	if err != nil || !clicked {
		t.Fatalf("clicking the replay button: %v (button found: %v)", err, clicked)
	}
	pollJS(t, tab, "the replay's answer", `document.getElementById("replay-msg").textContent.includes("1 reenviada")`, 30*time.Second)
	s.waitStatus("accepted", guia)
	pollJS(t, tab, "the replayed letter gone from the page and the document accepted", `!document.querySelector('`+row+`')`, settleTimeout)
	if n := queueDepth(t, s.amqpURL, bus.QueueDeadParked); n != 0 {
		t.Errorf("%d messages still parked after the replay from the page", n)
	}
	if err := chromedp.Do(tab,
		chromedp.SetValue(chromedp.ID("q"), guia.key.String()),
		chromedp.Click(chromedp.ID("search-go")),
	); err != nil {
		t.Fatal(err)
	}
	pollJS(t, tab, "the replayed document's history", `(document.getElementById("doc-history")?.textContent || "").includes("carta muerta") && document.getElementById("doc-title").textContent.includes("Aceptado")`, settleTimeout)
	shots.take(tab, "dashboard-replayed")
	if mark, err := chromedp.Run(tab, chromedp.Evaluate[int](`window.__noReload || 0`)); err != nil || mark != 42 {
		t.Errorf("the page was reloaded during the test (mark %d, %v): the counts must move by themselves", mark, err)
	}
}
