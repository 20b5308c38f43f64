//go:build race

package importfile

// raceEnabled: the race detector's shadow memory multiplies a process's
// RSS, so memory limits are not asserted under -race.
const raceEnabled = true
