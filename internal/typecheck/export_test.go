package typecheck

// Test helpers for the external tests (package typecheck_test), which may import pkg/pctx.
var (
	LoadCorpus    = loadCorpus
	TsgoPath      = tsgoPath
	CorpusCatalog = corpusCatalog
)

type CorpusProgram = corpusProgram
