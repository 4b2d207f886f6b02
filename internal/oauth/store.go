package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/pctx-dev/pctx/internal/keyring"
)

// KeyringService is the keychain service under which records are kept; the account
// is the server's URL.
const KeyringService = "pctx-oauth"

// Record is what pctx keeps for one server: the client it registered or was given,
// and the tokens it holds.
type Record struct {
	// Server is the MCP server URL the record belongs to.
	Server string `json:"server"`
	// Resource is the RFC 8707 resource indicator the tokens were issued for.
	Resource string `json:"resource,omitempty"`
	// Issuer is the authorization server that issued them.
	Issuer string `json:"issuer,omitempty"`
	// ResourceMetadata is the protected resource metadata URL that worked, so a
	// refresh in another process finds the authorization server directly.
	ResourceMetadata string `json:"resource_metadata,omitempty"`
	// Client is the registration pctx made (dynamic or metadata document); nil when
	// the client comes from pctx.toml or nothing was registered yet.
	Client *Registration `json:"client,omitempty"`
	// Token is the current token; nil before a login and after a logout.
	Token *transport.Token `json:"token,omitempty"`
	// Scopes are the scopes the token was requested with.
	Scopes []string `json:"scopes,omitempty"`
	// WantScopes are scopes a server asked for (insufficient_scope) since, which the
	// next login requests as well.
	WantScopes []string `json:"want_scopes,omitempty"`
	// Updated is when the record was last written.
	Updated time.Time `json:"updated"`
}

// Registration is a client registered with an authorization server.
type Registration struct {
	Issuer       string   `json:"issuer"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	AuthMethod   string   `json:"token_endpoint_auth_method,omitempty"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	// Kind is "dynamic" (RFC 7591) or "metadata-document" (a URL client ID).
	Kind string `json:"kind"`
	// SecretExpires is when the client secret expires; zero means never.
	SecretExpires time.Time `json:"client_secret_expires_at,omitzero"`
}

// Registration kinds.
const (
	KindDynamic          = "dynamic"
	KindMetadataDocument = "metadata-document"
)

// refreshable reports whether the token can be refreshed without the user.
func refreshable(t *transport.Token) bool { return t != nil && t.RefreshToken != "" }

// usable reports whether the token may be sent now, with skew to spare.
func usable(t *transport.Token, now time.Time) bool {
	return t != nil && t.AccessToken != "" && (t.ExpiresAt.IsZero() || now.Add(skew(t)).Before(t.ExpiresAt))
}

// expirySkew refreshes a token that expires this soon, so a request does not race
// its expiry on the way to the server.
const expirySkew = 30 * time.Second

// skew is expirySkew, or a quarter of a short-lived token's lifetime, so that a token
// good for a few seconds is not refreshed before every request.
func skew(t *transport.Token) time.Duration {
	if life := time.Duration(t.ExpiresIn) * time.Second; life > 0 && life/4 < expirySkew {
		return life / 4
	}
	return expirySkew
}

// ErrNoRecord is wrapped by Store.Load when nothing is stored for a server.
var ErrNoRecord = errors.New("no OAuth record")

// Store keeps Records in a keyring.Store, one entry per server URL.
type Store struct {
	kr keyring.Store
}

// NewStore returns a Store over kr.
func NewStore(kr keyring.Store) *Store { return &Store{kr: kr} }

// Where says where records live.
func (s *Store) Where() string { return s.kr.Where() }

// StoreKey canonicalises a server URL into the key records are kept under: scheme and
// host lower-cased, no fragment, no trailing slash on the path.
func StoreKey(serverURL string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		return serverURL
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	u.RawFragment = ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	return u.String()
}

// Load returns the record for serverURL, or an error wrapping ErrNoRecord.
func (s *Store) Load(serverURL string) (*Record, error) {
	key := StoreKey(serverURL)
	v, err := s.kr.Get(KeyringService, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w for %s", ErrNoRecord, key)
	}
	if err != nil {
		return nil, fmt.Errorf("oauth store: %w", err)
	}
	var r Record
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("oauth store: the record for %s is damaged (run pctx auth logout): %w", key, err)
	}
	return &r, nil
}

// Save writes r for serverURL, stamping Updated.
func (s *Store) Save(serverURL string, r *Record) error {
	r.Server = StoreKey(serverURL)
	r.Updated = time.Now().UTC().Truncate(time.Millisecond)
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("oauth store: %w", err)
	}
	if err := s.kr.Set(KeyringService, r.Server, string(data)); err != nil {
		return fmt.Errorf("oauth store: %w", err)
	}
	return nil
}

// Delete removes the record for serverURL; an error wrapping ErrNoRecord if none.
func (s *Store) Delete(serverURL string) error {
	key := StoreKey(serverURL)
	err := s.kr.Delete(KeyringService, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%w for %s", ErrNoRecord, key)
	}
	if err != nil {
		return fmt.Errorf("oauth store: %w", err)
	}
	return nil
}

// union returns a followed by the elements of b it lacks.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
