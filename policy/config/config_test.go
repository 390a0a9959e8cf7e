package config

import (
	"testing"

	"mpnet/abi"
	"mpnet/policy/jsonc"
)

// Hosts bound configuration files by abi's limits before reading them; the
// module's own limits must be the same.
func TestLimitsAgreeWithABI(t *testing.T) {
	if jsonc.MaxSize != abi.MaxConfigFileSize || MaxFiles != abi.MaxConfigFiles {
		t.Errorf("jsonc.MaxSize %d, MaxFiles %d; abi says %d and %d", jsonc.MaxSize, MaxFiles, abi.MaxConfigFileSize, abi.MaxConfigFiles)
	}
}
