package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// convertResult turns a raw tools/call result into the value the agent's code
// receives (DESIGN.md, execution semantics):
//   - isError: an error whose message is the upstream's text;
//   - structuredContent, when present;
//   - otherwise the content: one item is returned alone, several as an array.
//
// JSON values go back as json.RawMessage, which the runtime decodes itself with
// exact numbers: decoding them here into any would turn a 64-bit ID into a
// float64 and corrupt it. A text item becomes its JSON when the text is JSON,
// else the string; any other item (image, audio, resource, resource_link)
// stays the object it is on the wire ({type, mimeType, data, ...}). No content
// at all gives nil.
func convertResult(server, tool string, raw json.RawMessage) (any, error) {
	var res struct {
		Content           []json.RawMessage `json:"content"`
		StructuredContent json.RawMessage   `json:"structuredContent"`
		IsError           bool              `json:"isError"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("upstream %q: tool %q: malformed result: %w", server, tool, err)
	}
	if res.IsError {
		return nil, fmt.Errorf("upstream %q: tool %q: %w", server, tool, &toolError{text: errorText(res.Content)})
	}
	if sc := nullToNil(res.StructuredContent); sc != nil {
		// json.Unmarshal above has already validated it as JSON.
		return sc, nil
	}
	items := make([]any, 0, len(res.Content))
	for i, c := range res.Content {
		item, err := convertContent(c)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: tool %q: malformed content item %d: %w", server, tool, i, err)
		}
		items = append(items, item)
	}
	switch len(items) {
	case 0:
		return nil, nil
	case 1:
		return items[0], nil
	}
	return items, nil
}

func convertContent(raw json.RawMessage) (any, error) {
	var item map[string]json.RawMessage
	if err := json.Unmarshal(raw, &item); err != nil {
		return nil, err
	}
	if item == nil {
		return nil, fmt.Errorf("not an object")
	}
	var typ string
	if json.Unmarshal(item["type"], &typ) != nil || typ != "text" {
		return raw, nil
	}
	var text string
	if t := item["text"]; len(t) == 0 || t[0] != '"' || json.Unmarshal(t, &text) != nil {
		return nil, fmt.Errorf("text content without a text string")
	}
	return parseText(text), nil
}

// parseText returns the JSON text holds (as json.RawMessage), or text itself.
func parseText(text string) any {
	trimmed := bytes.TrimSpace([]byte(text))
	if len(trimmed) == 0 || !json.Valid(trimmed) {
		return text
	}
	return json.RawMessage(trimmed)
}

// errorText is the message of an isError result: its text items, or the
// content as JSON when it has none.
func errorText(content []json.RawMessage) string {
	var texts []string
	for _, c := range content {
		var item struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(c, &item) == nil && item.Type == "text" && item.Text != "" {
			texts = append(texts, item.Text)
		}
	}
	if len(texts) > 0 {
		return strings.Join(texts, "\n")
	}
	if len(content) > 0 {
		if b, err := json.Marshal(content); err == nil {
			return string(b)
		}
	}
	return "the tool reported an error without a message"
}

// toolError is an isError result; its message is the upstream's own text.
type toolError struct{ text string }

func (e *toolError) Error() string        { return e.text }
func (e *toolError) Is(target error) bool { return target == ErrToolFailed }
