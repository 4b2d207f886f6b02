module github.com/pctx-dev/pctx/sdk/go

go 1.26.8

require (
	github.com/coder/websocket v1.8.15
	github.com/google/jsonschema-go v0.4.2
	go.uber.org/goleak v1.3.0
)
