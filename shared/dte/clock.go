package dte

import (
	"time"
	_ "time/tzdata" // Chile's rules travel with the binary: static images have no zoneinfo
)

// Clock tells the time for TmstFirma, TSTED and TmstFirmaEnv; tests inject
// a fixed one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

// Now is the wall clock.
func (systemClock) Now() time.Time { return time.Now() }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Chile is the SII's time zone, America/Santiago.
var Chile = mustLocation("America/Santiago")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("dte: time/tzdata lacks " + name + ": " + err.Error())
	}
	return loc
}

// Timestamp formats t as the SII's FechaHoraType in Chile local time:
// AAAA-MM-DDTHH:MM:SS, no zone, no fraction.
func Timestamp(t time.Time) string {
	return t.In(Chile).Format("2006-01-02T15:04:05")
}

// ParseTimestamp reads a FechaHoraType value as Chile local time.
func ParseTimestamp(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02T15:04:05", s, Chile)
}
