package request

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// mutate loads a sample request as a generic map, applies edit and returns
// the JSON, so each case states only what it breaks.
func mutate(t *testing.T, sample string, edit func(m map[string]any)) []byte {
	t.Helper()
	body, err := os.ReadFile(samplesDir + "/" + sample)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
func line(m map[string]any, i int) map[string]any     { return m["lines"].([]any)[i].(map[string]any) }

func TestParseRejects(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		name   string
		sample string
		edit   func(m map[string]any)
		raw    string // used instead of sample+edit when set
		field  string
		rule   string
	}{
		{name: "malformed JSON", raw: `{"document": {`, field: "(request)", rule: "json-syntax"},
		{name: "not an object", raw: `[1,2]`, field: "(request)", rule: "type"},
		{name: "unknown document type", edit: func(m map[string]any) { obj(m, "document")["type"] = 39 }, field: "document.type", rule: "enum"},
		{name: "type as string", edit: func(m map[string]any) { obj(m, "document")["type"] = "33" }, field: "document.type", rule: "type"},
		{name: "folio zero", edit: func(m map[string]any) { obj(m, "document")["folio"] = 0 }, field: "document.folio", rule: "minimum"},
		{name: "folio negative", edit: func(m map[string]any) { obj(m, "document")["folio"] = -5 }, field: "document.folio", rule: "minimum"},
		{name: "folio missing", edit: func(m map[string]any) { delete(obj(m, "document"), "folio") }, field: "document.folio", rule: "required"},
		{name: "date not ISO", edit: func(m map[string]any) { obj(m, "document")["issue_date"] = "27/11/2026" }, field: "document.issue_date", rule: "date"},
		{name: "date impossible", edit: func(m map[string]any) { obj(m, "document")["issue_date"] = "2026-02-30" }, field: "document.issue_date", rule: "date"},
		{name: "issuer RUT check digit", edit: func(m map[string]any) { obj(m, "issuer")["rut"] = "76086428-4" }, field: "issuer.rut", rule: "rut-check-digit"},
		{name: "issuer RUT with dots", edit: func(m map[string]any) { obj(m, "issuer")["rut"] = "76.086.428-5" }, field: "issuer.rut", rule: "rut-format"},
		{name: "receiver RUT check digit", edit: func(m map[string]any) { obj(m, "receiver")["rut"] = "77654321-2" }, field: "receiver.rut", rule: "rut-check-digit"},
		{name: "receiver RUT lower-case k", edit: func(m map[string]any) { obj(m, "receiver")["rut"] = "60803000-k" }, field: "receiver.rut", rule: "rut-format"},
		{name: "exchange e-mail without domain", edit: func(m map[string]any) { obj(m, "receiver")["exchange_email"] = "dte@cliente" }, field: "receiver.exchange_email", rule: "email"},
		{name: "exchange e-mail with a name", edit: func(m map[string]any) { obj(m, "receiver")["exchange_email"] = "DTE <dte@cliente.cl>" }, field: "receiver.exchange_email", rule: "email"},
		{name: "exchange e-mail two addresses", edit: func(m map[string]any) { obj(m, "receiver")["exchange_email"] = "a@b.cl, c@d.cl" }, field: "receiver.exchange_email", rule: "email"},
		{name: "exchange e-mail too long", edit: func(m map[string]any) { obj(m, "receiver")["exchange_email"] = strings.Repeat("a", 80) + "@b.cl" }, field: "receiver.exchange_email", rule: "max-length"},
		{name: "print format unknown", edit: func(m map[string]any) { obj(m, "document")["print_format"] = "a4" }, field: "document.print_format", rule: "enum"},
		{name: "no lines", edit: func(m map[string]any) { m["lines"] = []any{} }, field: "lines", rule: "min-items"},
		{name: "61 lines", edit: func(m map[string]any) {
			ls := make([]any, 61)
			for i := range ls {
				ls[i] = map[string]any{"name": "x", "amount": 0}
			}
			m["lines"] = ls
		}, field: "lines", rule: "max-items"},
		{name: "quantity with 7 decimals", edit: func(m map[string]any) { line(m, 0)["quantity"] = 1.0000001 }, field: "lines[0].quantity", rule: "max-decimals"},
		{name: "price with 7 decimals", edit: func(m map[string]any) { line(m, 0)["unit_price"] = 150000.1234567 }, field: "lines[0].unit_price", rule: "max-decimals"},
		{name: "quantity zero", edit: func(m map[string]any) { line(m, 0)["quantity"] = 0 }, field: "lines[0].quantity", rule: "minimum"},
		{name: "line amount off by one", edit: func(m map[string]any) { line(m, 0)["amount"] = 150001 }, field: "lines[0].amount", rule: "line-amount"},
		{name: "discount amount inconsistent with percent", edit: func(m map[string]any) { line(m, 1)["discount_amount"] = 3000 }, field: "lines[1].discount_amount", rule: "discount-amount"},
		{name: "line name too long", edit: func(m map[string]any) { line(m, 0)["name"] = strings.Repeat("a", 81) }, field: "lines[0].name", rule: "max-length"},
		{name: "issuer name too long", edit: func(m map[string]any) { obj(m, "issuer")["name"] = strings.Repeat("ñ", 101) }, field: "issuer.name", rule: "max-length"},
		{name: "receiver giro too long", edit: func(m map[string]any) { obj(m, "receiver")["activity"] = strings.Repeat("g", 41) }, field: "receiver.activity", rule: "max-length"},
		{name: "name outside ISO-8859-1", edit: func(m map[string]any) { obj(m, "receiver")["name"] = "Café ☕ SpA" }, field: "receiver.name", rule: "iso-8859-1"},
		{name: "euro sign in a line", edit: func(m map[string]any) { line(m, 0)["description"] = "precio en €" }, field: "lines[0].description", rule: "iso-8859-1"},
		{name: "total off by one peso", edit: func(m map[string]any) { obj(m, "totals")["total"] = 207619 }, field: "totals.total", rule: "totals-sum"},
		{name: "VAT off by one peso", edit: func(m map[string]any) {
			tt := obj(m, "totals")
			tt["vat"] = 32352
			tt["total"] = 207619
		}, field: "totals.vat", rule: "totals-vat"},
		{name: "net does not match lines", edit: func(m map[string]any) {
			tt := obj(m, "totals")
			tt["net"] = 170268
			tt["total"] = 207619
		}, field: "totals.net", rule: "totals-net"},
		{name: "negative total", edit: func(m map[string]any) { obj(m, "totals")["total"] = -1 }, field: "totals.total", rule: "minimum"},
		{name: "decimal CLP amount", edit: func(m map[string]any) { obj(m, "totals")["net"] = 170267.5 }, field: "totals.net", rule: "type"},
		{name: "VAT on a 34", sample: "factura-exenta-34.json", edit: func(m map[string]any) {
			tt := obj(m, "totals")
			tt["vat"] = 1000
			tt["total"] = 520750
		}, field: "totals.vat", rule: "no-vat"},
		{name: "VAT rate not 19", edit: func(m map[string]any) { obj(m, "totals")["vat_rate"] = 18 }, field: "totals.vat_rate", rule: "enum"},
		{name: "credit note without references", sample: "nota-credito-61.json", edit: func(m map[string]any) { delete(m, "references") }, field: "references", rule: "required"},
		{name: "debit note reference without code", sample: "nota-debito-56.json", edit: func(m map[string]any) {
			delete(m["references"].([]any)[0].(map[string]any), "code")
		}, field: "references[0].code", rule: "required"},
		{name: "guía without transfer type", sample: "guia-despacho-52.json", edit: func(m map[string]any) { delete(obj(m, "document"), "transfer_type") }, field: "document.transfer_type", rule: "required"},
		{name: "factura without receiver giro", edit: func(m map[string]any) { delete(obj(m, "receiver"), "activity") }, field: "receiver.activity", rule: "required"},
		{name: "unknown field", edit: func(m map[string]any) { obj(m, "document")["folo"] = 1 }, field: "document.folo", rule: "unknown-field"},
		{name: "missing odoo block", edit: func(m map[string]any) { delete(m, "odoo") }, field: "odoo", rule: "required"},
		{name: "five acteco codes", edit: func(m map[string]any) { obj(m, "issuer")["acteco"] = []any{1, 2, 3, 4, 5} }, field: "issuer.acteco", rule: "max-items"},
		{name: "global discount over 100%", edit: func(m map[string]any) {
			m["global_adjustments"].([]any)[0].(map[string]any)["value"] = 101
		}, field: "global_adjustments[0].value", rule: "maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.raw)
			if tt.raw == "" {
				sample := tt.sample
				if sample == "" {
					sample = "factura-33.json"
				}
				body = mutate(t, sample, tt.edit)
			}
			req, err := v.Parse(body)
			if err == nil {
				t.Fatalf("accepted an invalid request: %+v", req)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *ValidationError", err, err)
			}
			for _, viol := range ve.Violations {
				if viol.Field == tt.field && viol.Rule == tt.rule {
					if viol.Message == "" {
						t.Fatal("violation without a message")
					}
					return
				}
			}
			t.Fatalf("want violation %s/%s, got %+v", tt.field, tt.rule, ve.Violations)
		})
	}
}

func TestParseListsEveryViolation(t *testing.T) {
	v := newValidator(t)
	body := mutate(t, "factura-33.json", func(m map[string]any) {
		obj(m, "issuer")["rut"] = "76086428-4"
		obj(m, "receiver")["name"] = "Bad ☃"
		obj(m, "document")["folio"] = 0
		line(m, 0)["quantity"] = 1.1234567
	})
	_, err := v.Parse(body)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	want := map[string]bool{"issuer.rut": true, "receiver.name": true, "document.folio": true, "lines[0].quantity": true}
	for _, viol := range ve.Violations {
		delete(want, viol.Field)
	}
	if len(want) > 0 {
		t.Fatalf("violations %+v miss fields %v", ve.Violations, want)
	}
}

func TestComputeRounding(t *testing.T) {
	tests := []struct {
		qty, price string
		want       int64
	}{
		{"1", "0.5", 1},           // half rounds up
		{"3", "0.166666", 0},      // 0.499998
		{"2.5", "12990.5", 32476}, // 32476.25
		{"0.000001", "500000", 1}, // 0.5
	}
	for _, tt := range tests {
		l := Line{Quantity: MustDecimal(tt.qty), UnitPrice: MustDecimal(tt.price)}
		if got, _ := l.LineGross(); got != tt.want {
			t.Errorf("%s × %s = %d, want %d", tt.qty, tt.price, got, tt.want)
		}
	}
}

func TestDecimalString(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "2.50": "2.5", "1e2": "100", "0.000001": "0.000001", "12990.5": "12990.5"} {
		var d Decimal
		if err := d.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if d.String() != want {
			t.Errorf("Decimal(%s).String() = %q, want %q", in, d.String(), want)
		}
	}
	var d Decimal
	if err := d.UnmarshalJSON([]byte(`"12"`)); err == nil {
		t.Error("a string was accepted as a decimal")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"factura-33.json", "nota-credito-61.json"} {
		b, err := os.ReadFile(samplesDir + "/" + s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"lines":[{"quantity":1e400}]}`))
	v, err := NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := v.Parse(body)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Violations) == 0 {
				t.Fatalf("error is not a violation list: %v", err)
			}
			return
		}
		if got := req.Compute(); got.Total != req.Totals.Total {
			t.Fatalf("accepted totals that do not add up: %+v vs %+v", got, req.Totals)
		}
	})
}
