// Package bustest gives integration tests an isolated RabbitMQ: a fresh
// virtual host per test on the broker at $TEST_AMQP_URL (default
// amqp://guest:guest@127.0.0.1:5672/), created with rabbitmqctl and removed
// when the test ends. An absent broker fails the tests under make test and
// CI (testenv.Strict) and skips them when go test is run by hand.
package bustest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/testenv"
	amqp "github.com/rabbitmq/amqp091-go"
)

// DefaultURL is the broker tests use unless TEST_AMQP_URL says otherwise.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// Require fails (under make test and CI) or skips the test when the broker
// is not reachable, and returns its base URL.
func Require(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("TEST_AMQP_URL")
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("TEST_AMQP_URL %q: %v", raw, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		testenv.Unavailable(t, "RabbitMQ is not reachable at %s (start it with `rabbitmq-server -detached`): %v", u.Host, err)
	}
	conn.Close()
	return raw
}

// VHost creates a fresh virtual host for the test and returns the URL of the
// broker inside it. The vhost is deleted when the test ends.
func VHost(t testing.TB) string {
	t.Helper()
	base := Require(t)
	u, _ := url.Parse(base)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "dte-test-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "-" + hex.EncodeToString(b)
	if len(name) > 200 {
		name = name[:200]
	}
	user := u.User.Username()
	if user == "" {
		user = "guest"
	}
	ctl(t, "add_vhost", name)
	t.Cleanup(func() { ctlQuiet("delete_vhost", name) })
	ctl(t, "set_permissions", "-p", name, user, ".*", ".*", ".*")
	u.Path = "/" + name // String escapes it
	u.RawPath = ""
	return u.String()
}

func ctl(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", args...).CombinedOutput()
	if err != nil {
		testenv.Unavailable(t, "rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func ctlQuiet(args ...string) { _ = exec.Command("rabbitmqctl", args...).Run() }

// Channel opens a connection to url and a channel on it, both closed when
// the test ends: the test's own look at the broker (queue depths, messages).
func Channel(t testing.TB, url string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}
