package keyring

import (
	"fmt"
	"sync"
)

// Memory is a Store in memory, for tests and for one-shot programs that must not
// persist anything (the conformance client).
type Memory struct {
	mu sync.Mutex
	m  map[[2]string]string
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{m: map[[2]string]string{}} }

func (m *Memory) Where() string { return "memory" }

func (m *Memory) Get(service, account string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[[2]string{service, account}]
	if !ok {
		return "", fmt.Errorf("keyring: %s/%s: %w", service, account, ErrNotFound)
	}
	return v, nil
}

func (m *Memory) Set(service, account, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[[2]string{service, account}] = value
	return nil
}

func (m *Memory) Delete(service, account string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{service, account}
	if _, ok := m.m[k]; !ok {
		return fmt.Errorf("keyring: %s/%s: %w", service, account, ErrNotFound)
	}
	delete(m.m, k)
	return nil
}
