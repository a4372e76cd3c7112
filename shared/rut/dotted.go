package rut

import "strconv"

// Dotted writes the RUT the way it is printed on documents, with dots
// between thousands: 76.086.428-5 (the XML form, String, has none).
func (r RUT) Dotted() string {
	digits := strconv.FormatInt(r.Number, 10)
	b := make([]byte, 0, len(digits)+len(digits)/3+2)
	for i, c := range []byte(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b = append(b, '.')
		}
		b = append(b, c)
	}
	return string(append(b, '-', r.DV))
}
