package server

import (
	"context"

	mcpserver "github.com/mark3labs/mcp-go/server"
)

// sessionID names the MCP session a tool call belongs to ("" when there is none).
func sessionID(ctx context.Context) string {
	if session := mcpserver.ClientSessionFromContext(ctx); session != nil {
		return session.SessionID()
	}
	return ""
}
