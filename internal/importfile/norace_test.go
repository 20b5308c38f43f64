//go:build !race

package importfile

const raceEnabled = false
