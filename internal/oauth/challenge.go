package oauth

import (
	"net/http"
	"strings"
)

// challenge is the Bearer challenge of a 401 or 403 (RFC 6750 §3, RFC 9728 §5.1).
type challenge struct {
	bearer           bool // a Bearer challenge was present
	err              string
	errorDescription string
	scope            string
	resourceMetadata string
}

// scopes splits the challenge's scope parameter.
func (c challenge) scopes() []string { return strings.Fields(c.scope) }

// parseChallenge reads the Bearer challenge among the WWW-Authenticate headers of h.
// A header may hold several challenges ("Basic realm=x, Bearer scope=y"); each
// header line may too.
func parseChallenge(h http.Header) challenge {
	var out challenge
	for _, line := range h.Values("WWW-Authenticate") {
		for _, ch := range splitChallenges(line) {
			if !strings.EqualFold(ch.scheme, "Bearer") {
				continue
			}
			out.bearer = true
			for k, v := range ch.params {
				switch strings.ToLower(k) {
				case "error":
					out.err = v
				case "error_description":
					out.errorDescription = v
				case "scope":
					out.scope = v
				case "resource_metadata":
					out.resourceMetadata = v
				}
			}
			return out
		}
	}
	return out
}

type authChallenge struct {
	scheme string
	params map[string]string
}

// splitChallenges parses one WWW-Authenticate value (RFC 9110 §11.6.1): a list of
// challenges, each a scheme and comma-separated auth-params (token68 values are kept
// under the empty key). Malformed input yields what could be read.
func splitChallenges(s string) []authChallenge {
	var out []authChallenge
	p := &lexer{s: s}
	for {
		p.skip(" \t,")
		scheme := p.token()
		if scheme == "" {
			return out
		}
		ch := authChallenge{scheme: scheme, params: map[string]string{}}
		for {
			p.skip(" \t")
			save := p.i
			key := p.token()
			if key == "" {
				break
			}
			p.skip(" \t")
			if !p.eat('=') {
				// A token not followed by "=" starts the next challenge.
				p.i = save
				break
			}
			p.skip(" \t")
			var val string
			if p.peek() == '"' {
				val = p.quoted()
			} else {
				val = p.token68()
			}
			if _, dup := ch.params[strings.ToLower(key)]; !dup {
				ch.params[strings.ToLower(key)] = val
			}
			p.skip(" \t")
			if !p.eat(',') {
				break
			}
		}
		out = append(out, ch)
	}
}

type lexer struct {
	s string
	i int
}

func (p *lexer) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *lexer) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *lexer) skip(chars string) {
	for p.i < len(p.s) && strings.IndexByte(chars, p.s[p.i]) >= 0 {
		p.i++
	}
}

// token reads an RFC 9110 token.
func (p *lexer) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// token68 reads a token68 or token value (up to a comma or space).
func (p *lexer) token68() string {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ' ' && p.s[p.i] != '\t' {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string, undoing backslash escapes.
func (p *lexer) quoted() string {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\\':
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
