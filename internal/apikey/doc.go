// Package apikey checks the API key pctx's HTTP endpoints require ([server] api_key), in
// one place, so /mcp, /ws and the published client's REST endpoints accept exactly the
// same forms.
package apikey
