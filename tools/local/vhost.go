package local

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DefaultVHost is the RabbitMQ virtual host `dte local` uses unless told
// otherwise: its own, so that its queues (which it purges at start) are
// never those of anything else on the broker.
const DefaultVHost = "dte-local"

// VHostOf returns the virtual host an AMQP URL names ("/" when none).
func VHostOf(amqpURL string) (string, error) {
	u, err := url.Parse(amqpURL)
	if err != nil {
		return "", fmt.Errorf("AMQP URL: %w", err)
	}
	if u.Scheme != "amqp" && u.Scheme != "amqps" {
		return "", fmt.Errorf("AMQP URL %q: scheme must be amqp or amqps", u.Redacted())
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "/", nil
	}
	return name, nil
}

// WithVHost returns amqpURL with its virtual host replaced by vhost.
func WithVHost(amqpURL, vhost string) (string, error) {
	u, err := url.Parse(amqpURL)
	if err != nil {
		return "", fmt.Errorf("AMQP URL: %w", err)
	}
	u.Path, u.RawPath = "/"+vhost, ""
	return u.String(), nil
}

// EnsureVHost makes sure the URL's virtual host exists. When the broker
// refuses the connection because it does not, it is created with rabbitmqctl
// (the broker runs on this machine, as `make run` expects) and the URL's user
// is given every permission in it. It reports whether it created it.
func EnsureVHost(ctx context.Context, amqpURL string) (bool, error) {
	vhost, err := VHostOf(amqpURL)
	if err != nil {
		return false, err
	}
	conn, err := amqp.DialConfig(amqpURL, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err == nil {
		return false, conn.Close()
	}
	var ae *amqp.Error
	if !errors.As(err, &ae) || ae.Code != amqp.NotAllowed || vhost == "/" {
		return false, fmt.Errorf("RabbitMQ at %s: %w (start it with `rabbitmq-server -detached`)", redacted(amqpURL), err)
	}
	user := "guest"
	if u, _ := url.Parse(amqpURL); u != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	for _, args := range [][]string{
		{"add_vhost", vhost},
		{"set_permissions", "-p", vhost, user, ".*", ".*", ".*"},
	} {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		out, err := exec.CommandContext(cctx, "rabbitmqctl", args...).CombinedOutput()
		cancel()
		if err != nil {
			return false, fmt.Errorf("RabbitMQ vhost %q does not exist and `rabbitmqctl %s` failed: %w: %s",
				vhost, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return true, nil
}

func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}
