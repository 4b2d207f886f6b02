package apikey_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/pctx-dev/pctx/internal/apikey"
)

func TestMatches(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		header map[string]string
		want   bool
	}{
		{"x-api-key", "k1", map[string]string{"X-API-Key": "k1"}, true},
		{"bearer", "k1", map[string]string{"Authorization": "Bearer k1"}, true},
		{"bearer, any case, spaces", "k1", map[string]string{"Authorization": "bEaReR   k1 "}, true},
		{"wrong key", "k1", map[string]string{"X-API-Key": "k2"}, false},
		{"prefix of the key", "k1", map[string]string{"X-API-Key": "k"}, false},
		{"no header", "k1", nil, false},
		{"basic scheme", "k1", map[string]string{"Authorization": "Basic k1"}, false},
		{"bearer without a key", "k1", map[string]string{"Authorization": "Bearer "}, false},
		{"x-api-key wins over a right bearer", "k1", map[string]string{"X-API-Key": "wrong", "Authorization": "Bearer k1"}, false},
		{"x-api-key right, bearer wrong", "k1", map[string]string{"X-API-Key": "k1", "Authorization": "Bearer wrong"}, true},
		{"empty key never matches", "", map[string]string{"X-API-Key": ""}, false},
		{"empty key, bearer", "", map[string]string{"Authorization": "Bearer "}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if got := apikey.Matches(r, tt.key); got != tt.want {
				t.Errorf("Matches(%v, %q) = %v, want %v", tt.header, tt.key, got, tt.want)
			}
		})
	}
}

func ExampleMatches() {
	r := httptest.NewRequest("POST", "/mcp", nil)
	r.Header.Set("Authorization", "Bearer s3cret")
	fmt.Println(apikey.Matches(r, "s3cret"), apikey.Matches(r, "other"), apikey.Matches(r, ""))
	// Output: true false false
}
