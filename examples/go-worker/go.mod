module github.com/pctx-dev/pctx/examples/go-worker

go 1.26.8

require github.com/pctx-dev/pctx/sdk/go v0.0.0

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/google/jsonschema-go v0.4.2 // indirect
)

// The example builds against the SDK in this repository.
replace github.com/pctx-dev/pctx/sdk/go => ../../sdk/go
