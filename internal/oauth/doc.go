// Package oauth is pctx's OAuth 2.1 client for upstream MCP servers, as the MCP
// authorization specification (2025-11-25) describes it, with its 2025-03-26
// fallbacks.
//
// A Client serves one upstream URL. Its Transport wraps the upstream's HTTP
// transport: every request carries the stored access token, refreshed shortly before
// it expires; a 401 with a Bearer challenge starts discovery and authorization, a 403
// insufficient_scope a step-up, and the request is sent again once:
//
//   - discovery: protected resource metadata (RFC 9728) from the challenge's
//     resource_metadata, else the path-inserted and root well-known URLs; its resource
//     must name the server (else nothing is sent anywhere); then authorization server
//     metadata (RFC 8414 and OpenID Connect discovery, with the issuer checked). A
//     server without resource metadata is a 2025-03-26 server: its origin is the
//     authorization server, with /authorize, /token and /register when it has no
//     metadata either.
//   - the client: the one in pctx.toml, else a registration kept from earlier, else a
//     client ID metadata document (when the server supports them and one is
//     configured), else dynamic client registration (RFC 7591).
//   - scopes: the challenge's scope, else all of the resource's scopes_supported, else
//     none; offline_access when the authorization server lists it; on
//     insufficient_scope the union of what was granted and what is asked, once per
//     request and once per scope set (a server that keeps refusing gets an error, not
//     a loop).
//   - the grant: authorization code with PKCE S256, state, RFC 8707 resource
//     indicators and RFC 9207 issuer checks, through an Agent (the user's browser and a
//     loopback redirect for pctx auth login; nil in a running server, which reports
//     LoginRequiredError instead), or client credentials for machine clients. Token
//     endpoint authentication is none, client_secret_basic, client_secret_post or
//     private_key_jwt (ES256, RS256).
//
// Tokens and registrations live in a Store (package keyring underneath: the OS
// keychain, or 0600 files), keyed by the server URL, so pctx auth login in one process
// serves pctx start in another; WaitForLogin polls the store so a running server
// comes up when a login lands. Every token and secret the Client handles is added to
// the redact.Set it is given.
//
// From mcp-go (client/transport) it uses the Token type, the PKCE and state
// generators and OAuthError; its OAuthHandler is not used because its discovery
// lacks the root well-known fallback, scope selection, step-up and client ID metadata
// documents, and fixes scopes and the resource at construction.
//
// Clients, Stores and Transports are safe for concurrent use: concurrent requests
// that find the token expired or refused share one refresh or authorization.
package oauth
