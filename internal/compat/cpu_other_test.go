//go:build !unix

package compat

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
