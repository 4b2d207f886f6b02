package sdkbridge

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
)

func TestCodeModeErrorCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("put: %w", catalog.ErrNamespaceTaken), CodeNamespaceTaken},
		{fmt.Errorf("%w: 64 executions are already running", codemode.ErrBusy), CodeTooBusy},
		{errors.New("no functions named"), CodeInvalidParams},
	}
	for _, tt := range tests {
		if got := codeModeError("execute_typescript", tt.err); got.Code != tt.want {
			t.Errorf("codeModeError(%v).Code = %d, want %d", tt.err, got.Code, tt.want)
		}
	}
}
