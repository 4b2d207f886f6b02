package pctx

import (
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/typecheck"
)

// startTypecheck starts the type checker [runtime] asks for and returns the option that
// puts it in front of every execution. Without tsgo pctx still serves: it says so in one
// line and runs programs unchecked.
func (p *PCTX) startTypecheck(rt config.Runtime) codemode.Option {
	mode := codemode.TypecheckMode(rt.Typecheck)
	if mode == codemode.TypecheckOff {
		return codemode.WithTypecheck(nil, mode, p.log)
	}
	path, err := typecheck.Find(rt.Tsgo)
	if err != nil {
		p.log.Warn("type checking is off, programs run unchecked: " + err.Error() +
			"; to turn it on install tsgo (npm install -g @typescript/native-preview) or point [runtime] tsgo or $" + typecheck.EnvVar + " at it")
		return codemode.WithTypecheck(nil, mode, p.log)
	}
	c, err := typecheck.New(typecheck.Options{Tsgo: path, Logger: p.log})
	if err != nil {
		p.log.Warn("type checking is off, programs run unchecked", "err", err)
		return codemode.WithTypecheck(nil, mode, p.log)
	}
	p.checker = c
	p.log.Info("type checking programs before they run", "mode", mode, "tsgo", path)
	return codemode.WithTypecheck(c, mode, p.log)
}
