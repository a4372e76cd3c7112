package printout

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/dtecl/pipeline/shared/timbre"
)

// TestFitStamp: real TEDs fit both formats within the SII's bounds, with
// modules of at least 0.17 mm and rows three modules high.
func TestFitStamp(t *testing.T) {
	for _, f := range []string{"../../testdata/sii/real-dte/DTE--76354771-K--33--170--cleaned.xml", "../../testdata/sii/sii-official/F60T33-ejemplo-oficial-SII.xml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ted, err := timbre.Bytes(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, box := range [][2]float64{{letterStampW, letterStampH}, {ticketStampW, ticketStampH}} {
			s, err := fitStamp(ted, box[0], box[1])
			if err != nil {
				t.Fatal(err)
			}
			if s.module < MinModule || s.w > box[0] || s.h > box[1] || s.w < 50 || s.h < 20 || s.sym.Level != 5 {
				t.Errorf("%d bytes in %v: %d columns × %d rows, X %.3f mm → %.1f × %.1f mm", len(ted), box, s.sym.Columns, s.sym.Rows, s.module, s.w, s.h)
			}
			if s.h != float64(3*s.sym.Rows)*s.module {
				t.Error("rows are not 3 modules high")
			}
		}
	}
	// A timbre that cannot fit is refused, not shrunk below the minimum.
	if _, err := fitStamp(bytes.Repeat([]byte("x"), 900), 40, 15); !errors.Is(err, ErrCannotPrint) {
		t.Errorf("tiny box: %v", err)
	}
}

// TestLabels: every text this package prints of its own can be printed
// with the PDF's Latin-1 fonts.
func TestLabels(t *testing.T) {
	var all []string
	for _, m := range []map[string]string{referenceTypes, referenceCodes, paymentForms, transferTypes, dispatchTypes, taxNames} {
		for _, v := range m {
			all = append(all, v)
		}
	}
	for _, v := range documentNames {
		all = append(all, v)
	}
	for _, c := range letterColumns {
		all = append(all, c.title)
	}
	all = append(all, acuseText, "Timbre Electrónico SII", "Verifique documento: www.sii.cl", "Señor(es):", "Dirección:", "Teléfono: ", "Fecha emisión:", "N° ", "•", "Página")
	all = append(all, acuseFields...)
	for office, communes := range siiOffices {
		all = append(all, office)
		all = append(all, communes...)
	}
	for _, s := range all {
		if _, err := winAnsi(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// TestOffices: every comuna belongs to one office, whatever its spelling.
func TestOffices(t *testing.T) {
	seen := map[string]string{}
	n := 0
	for office, communes := range siiOffices {
		for _, c := range communes {
			k := normalizeCommune(c)
			if prev, dup := seen[k]; dup && prev != office {
				t.Errorf("%s is in %s and %s", c, prev, office)
			}
			seen[k] = office
			n++
		}
	}
	if len(seen) < 330 {
		t.Errorf("only %d comunas", len(seen))
	}
	for in, want := range map[string]string{
		"Providencia": "PROVIDENCIA", "ÑUÑOA": "ÑUÑOA", "nunoa": "ÑUÑOA", "Peñalolén": "ÑUÑOA", "PENALOLEN": "ÑUÑOA",
		"LAS CONDES": "SANTIAGO ORIENTE", "Santiago": "SANTIAGO CENTRO", "LA FLORIDA": "LA FLORIDA",
		"QUILLOTA": "QUILLOTA", "O'Higgins": "COCHRANE", "o higgins": "COCHRANE", "  Viña   del  Mar ": "VIÑA DEL MAR",
		"Concepción": "CONCEPCIÓN", "San Pedro de la Paz": "CONCEPCIÓN", "Coquimbo": "COQUIMBO",
	} {
		if got, ok := Office(in); !ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "Atlantis", "Navidad"} {
		if got, ok := Office(in); ok {
			t.Errorf("%q: %q", in, got)
		}
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "150000": "150.000", "1234567": "1.234.567", "12990.5": "12.990,5", "2.00": "2",
		"45990.333333": "45.990,333333", "0.5": "0,5", "-3248": "-3.248", "19.00": "19", "abc": "abc", "": "",
	} {
		if got := number(in); got != want {
			t.Errorf("number(%q) = %q, want %q", in, got, want)
		}
	}
	if got := longDate("2026-11-27"); got != "27 de noviembre de 2026" {
		t.Error(got)
	}
	if got := shortDate("2026-01-05"); got != "05-01-2026" {
		t.Error(got)
	}
	if _, err := winAnsi("emoji 😀"); err == nil {
		t.Error("emoji printed")
	}
	if s, err := winAnsi("Año – “cita” €"); err != nil || s != "A\xf1o \x96 \x93cita\x94 \x80" {
		t.Errorf("%q %v", s, err)
	}
}
