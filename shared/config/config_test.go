package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/request"
)

type sample struct {
	Base
	Dev
	Token  string          `env:"TOKEN,secret" dev:"local-token"`
	Key    string          `env:"KEY,secret" default:"k"`
	Must   string          `env:"MUST,required"`
	Delays []time.Duration `env:"DELAYS" default:"1s,5s"`
	Size   int64           `env:"SIZE" default:"10"`
	Flag   bool            `env:"FLAG" default:"true"`
	Mode   string          `env:"MODE" default:"a" enum:"a,b"`
	Wait   time.Duration   `env:"WAIT"`
}

func TestLoadDefaultsAndValues(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var c sample
	dev, err := Load(Map(map[string]string{
		"PORT": "9090", "MUST": " x ", "KEY_FILE": keyFile, "TOKEN": "t", "DELAYS": "1s, 2m",
		"FLAG": "false", "MODE": "b", "LOG_LEVEL": "  ", // blank counts as unset
	}), &c)
	if err != nil || len(dev) != 0 {
		t.Fatalf("Load: %v (dev %v)", err, dev)
	}
	want := sample{
		Base:  Base{Port: 9090, LogLevel: "info", ShutdownTimeout: 25 * time.Second, LockFile: "/tmp/.lock"},
		Token: "t", Key: "from-file", Must: "x", Delays: []time.Duration{time.Second, 2 * time.Minute},
		Size: 10, Flag: false, Mode: "b",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

func TestLoadListsEveryProblem(t *testing.T) {
	var c sample
	_, err := Load(Map(map[string]string{
		"PORT": "x", "DELAYS": "1s,0s", "SIZE": "1.5", "FLAG": "maybe", "MODE": "c", "WAIT": "-1s",
		"KEY": "inline", "KEY_FILE": "/nonexistent", "LOG_LEVEL": "loud",
	}), &c)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`PORT="x" is not an integer`, "DELAYS=", "SIZE=", "FLAG=", `MODE="c" must be one of a, b`, `WAIT="-1s" is not a duration`,
		"both KEY and KEY_FILE are set", "LOG_LEVEL=", "MUST is required",
		"TOKEN is required (or TOKEN_FILE) (DTE_DEV_MODE=true",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestSecretValuesStayOutOfErrors(t *testing.T) {
	type s struct {
		N int `env:"N,secret"`
	}
	_, err := Load(Map(map[string]string{"N": "hunter2"}), &s{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v shows the secret", err)
	}
}

func TestDevMode(t *testing.T) {
	var c sample
	dev, err := Load(Map(map[string]string{"MUST": "x", DevModeVar: "true"}), &c)
	if err != nil || c.Token != "local-token" || strings.Join(dev, ",") != "TOKEN" || !c.DevMode {
		t.Fatalf("dev mode: %v token %q dev %v", err, c.Token, dev)
	}
	c = sample{}
	dev, err = Load(Map(map[string]string{"MUST": "x", DevModeVar: "true", "TOKEN": "real"}), &c)
	if err != nil || c.Token != "real" || len(dev) != 0 {
		t.Fatalf("a set secret in dev mode: %v token %q dev %v", err, c.Token, dev)
	}
	if _, err := Load(Map(map[string]string{"MUST": "x", DevModeVar: "yes please"}), &sample{}); err == nil || !strings.Contains(err.Error(), DevModeVar) {
		t.Fatalf("a bad switch: %v", err)
	}
}

func TestBadDeclarations(t *testing.T) {
	type noTag struct{ X int }
	type badOpt struct {
		X int `env:"X,sekret"`
	}
	type badType struct {
		X float64 `env:"X"`
	}
	type twice struct {
		A int `env:"X"`
		B int `env:"X"`
	}
	type devAndDefault struct {
		A string `env:"X" dev:"a" default:"b"`
	}
	for _, v := range []any{&noTag{}, &badOpt{}, &badType{}, &twice{}, &devAndDefault{}, noTag{}} {
		if _, err := Load(Map(nil), v); err == nil {
			t.Errorf("%T: no error", v)
		}
	}
}

// TestFunctionsDeclarations: every function's configuration is well
// declared, its defaults parse, and it loads with only what has no default.
func TestFunctionsDeclarations(t *testing.T) {
	for _, fn := range Functions() {
		t.Run(fn.Name, func(t *testing.T) {
			vars, err := Vars(fn.Spec)
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{DevModeVar: "true"}
			for _, v := range vars {
				if v.Required {
					env[v.Name] = "/dev/null"
				}
				if v.Help == "" {
					t.Errorf("%s has no help text", v.Name)
				}
			}
			p := reflect.New(reflect.TypeOf(fn.Spec))
			if _, err := Load(Map(env), p.Interface()); err != nil {
				t.Fatal(err)
			}
			if reflect.Indirect(p).FieldByName("Port").Int() != 8080 {
				t.Error("PORT default not applied")
			}
		})
	}
}

// TestDefaultsAgreeWithTheContract: the defaults that restate a limit of
// the code are that limit.
func TestDefaultsAgreeWithTheContract(t *testing.T) {
	if got := DefaultOf(Enqueue{}, "MAX_BODY_BYTES"); got != strconv.Itoa(request.MaxRequestBodySize) {
		t.Errorf("MAX_BODY_BYTES default %s, the request's limit is %d", got, request.MaxRequestBodySize)
	}
	if DefaultOf(Broker{}, "AMQP_URL") == "" || DevValueOf(Enqueue{}, "ENQUEUE_SECRET") == "" || DevValueOf(Notify{}, "CALLBACK_SECRET") == "" {
		t.Error("a default the tools read is missing")
	}
	if DefaultOf(Enqueue{}, "NOPE") != "" || DevValueOf(Enqueue{}, "PORT") != "" {
		t.Error("lookups of what is not declared must be empty")
	}
}
