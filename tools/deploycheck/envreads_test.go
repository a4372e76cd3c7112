package deploycheck

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvReads(t *testing.T) {
	modules := map[string]string{"example.com/lib": filepath.Join("testdata", "envreads", "lib")}
	tests := []struct {
		name    string
		dir     string
		want    string // Name:Getter, sorted by name
		wantErr string
	}{
		{
			name: "getters, constants, local and cross-package helpers",
			dir:  "fn",
			want: "FLAG:Bool FROM_CONST:Required LIB_SECRET:Secret LIB_VAR:String PLAIN:String PORT:Int TOKEN:Secret WAIT:Duration",
		},
		{name: "os.Getenv bypasses config.Env", dir: "getenv", wantErr: "os.Getenv bypasses config.Env"},
		{name: "a computed name", dir: "dynamic", wantErr: "not a string constant"},
		{name: "no package", dir: "missing", wantErr: "no Go files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reads, err := EnvReads(filepath.Join("testdata", "envreads", tt.dir), modules)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range reads {
				got = append(got, r.Name+":"+r.Getter)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("reads:\n got %s\nwant %s", g, tt.want)
			}
		})
	}
}

// TestFunctionsEnvReads guards the extraction on the real functions: were
// it to find nothing, every environment check would pass vacuously.
func TestFunctionsEnvReads(t *testing.T) {
	f := loadFixture(t)
	tests := []struct {
		fn   string
		want []string // reads that must be found, Name:Getter
	}{
		{"enqueue", []string{"PORT:Int", "AMQP_URL:Secret", "ENQUEUE_SECRET:Secret", "LOG_LEVEL:String"}},
		{"sign", []string{"PORT:Int", "REPLY_MODE:String", "CERT_FILE:Required", "CERT_PASSWORD:Secret", "S3_BUCKET:String", "S3_ACCESS_KEY:Secret"}},
		{"submit", []string{"PORT:Int", "REPLY_MODE:String", "SII_ENV:String", "S3_ENDPOINT:String", "S3_SECRET_KEY:Secret"}},
		{"notify", []string{"PORT:Int", "ODOO_CALLBACK_URL:String", "CALLBACK_SECRET:Secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			got := map[string]bool{}
			for _, r := range f.policy.Reads[tt.fn] {
				got[r.Name+":"+r.Getter] = true
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("%s: %s not found among %v", tt.fn, w, f.policy.Reads[tt.fn])
				}
			}
		})
	}
}
