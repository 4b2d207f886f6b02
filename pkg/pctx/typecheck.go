package pctx

import (
	"time"

	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/typecheck"
)

// startTypecheck starts the type checker [runtime] asks for and returns it for
// codemode, or nil when programs run unchecked. Without tsgo pctx still serves: it says
// so in one line.
func (p *PCTX) startTypecheck(rt config.Runtime) codemode.Checker {
	if rt.Typecheck == config.TypecheckOff {
		return nil
	}
	path, err := typecheck.Find(rt.Tsgo)
	if err != nil {
		p.log.Warn("type checking is off, programs run unchecked: " + err.Error() +
			"; to turn it on install tsgo (npm install -g @typescript/native-preview) or point [runtime] tsgo or $" + typecheck.EnvVar + " at it")
		return nil
	}
	opts := typecheck.Options{Tsgo: path, Logger: p.log}
	if rt.Timeout > 0 && rt.Timeout < typecheck.DefaultTimeout {
		opts.Timeout = rt.Timeout // a check never gets longer than a run
	}
	c, err := typecheck.New(opts)
	if err != nil {
		p.log.Warn("type checking is off, programs run unchecked", "err", err)
		return nil
	}
	p.checker = c
	p.stopWarm = make(chan struct{})
	go p.warmOnChange()
	mode := rt.Typecheck
	if mode == "" {
		mode = config.TypecheckStrict
	}
	p.log.Info("type checking programs before they run", "mode", mode, "tsgo", path)
	return c
}

// warmDelay lets a burst of catalog changes (upstreams connecting at start) settle
// before the checker prepares for the result.
const warmDelay = 200 * time.Millisecond

// warmOnChange keeps the checker ready for the catalog as it changes, until Close: the
// first program after a change would otherwise pay for parsing the new declarations.
func (p *PCTX) warmOnChange() {
	ch := p.cat.Changed()
	p.checker.Warm(p.cat.Snapshot().Declarations())
	for {
		select {
		case <-ch:
		case <-p.stopWarm:
			return
		}
		select {
		case <-time.After(warmDelay):
		case <-p.stopWarm:
			return
		}
		ch = p.cat.Changed()
		p.checker.Warm(p.cat.Snapshot().Declarations())
	}
}
