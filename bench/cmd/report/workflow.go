package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Step is one model turn's output (a tool call, or the final answer) and the tool result
// that comes back (empty after the final answer).
type Step struct {
	Call   string `json:"call"`
	Result string `json:"result,omitempty"`
}

// Conversation is a whole workflow as a model sees it: tool definitions and the prompt
// are sent with every request; each step's call and result are appended to the history.
type Conversation struct {
	Tools  string `json:"-"`
	Prompt string `json:"-"`
	Steps  []Step `json:"-"`
}

// TurnTokens is one request: what the model reads (Input) and writes (Output).
type TurnTokens struct {
	Input  Tokens `json:"input"`
	Output Tokens `json:"output"`
}

// Cost is a conversation's token bill, turn by turn and in total.
type Cost struct {
	Turns  []TurnTokens `json:"turns"`
	Input  Tokens       `json:"input"`
	Output Tokens       `json:"output"`
	Total  Tokens       `json:"total"`
}

// Cost bills c: request i reads the tool definitions, the prompt and every earlier call
// and result, and writes step i's call. Message framing (a few tokens per message in
// each vendor's chat format) is left out on both sides.
func (c Conversation) Cost(tk *Tokenizer) Cost {
	base := tk.Count(c.Tools).Add(tk.Count(c.Prompt))
	var history Tokens
	var cost Cost
	for _, s := range c.Steps {
		out := tk.Count(s.Call)
		turn := TurnTokens{Input: base.Add(history), Output: out}
		cost.Turns = append(cost.Turns, turn)
		cost.Input = cost.Input.Add(turn.Input)
		cost.Output = cost.Output.Add(turn.Output)
		history = history.Add(out).Add(tk.Count(s.Result))
	}
	cost.Total = cost.Input.Add(cost.Output)
	return cost
}

// ToolCall renders a tool call as the model writes it: name and JSON arguments.
func ToolCall(name string, args any) string {
	return `{"name":` + jsonText(name) + `,"arguments":` + jsonText(args) + `}`
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return string(b)
}

// Call is one tool call of a sequential workflow: the flat tool name a classic client
// exposes, its arguments, and the result payload it gets back.
type Call struct {
	Tool   string
	Args   any
	Result any
}

// Workflow is one of the seed's scenarios.
type Workflow struct {
	Name       string   `json:"name"`
	Prompt     string   `json:"prompt"`
	Program    string   `json:"program"`    // the seed's TypeScript, verbatim
	Functions  []string `json:"functions"`  // "ns.fn" the program calls
	Namespaces []string `json:"namespaces"` // their namespaces
	Calls      []Call   `json:"-"`
	// Batches groups consecutive Calls that the seed's program runs concurrently, for the
	// variant where the model issues parallel tool calls in one turn.
	Batches []int  `json:"batches"`
	Final   string `json:"final_answer"`
}

// Sequential models w as classic tool calling: every tool definition (toolsJSON) in
// every request, one call per turn, each result appended verbatim (compact JSON, the
// cheapest encoding a server could use), then the final answer.
func (w Workflow) Sequential(toolsJSON string) Conversation {
	ones := make([]int, len(w.Calls))
	for i := range ones {
		ones[i] = 1
	}
	return w.batched(toolsJSON, ones)
}

// Parallel is Sequential with the calls of each of w.Batches issued in one turn, as a
// model with parallel tool calls would: fewer requests, the same payloads.
func (w Workflow) Parallel(toolsJSON string) Conversation { return w.batched(toolsJSON, w.Batches) }

func (w Workflow) batched(toolsJSON string, batches []int) Conversation {
	c := Conversation{Tools: toolsJSON, Prompt: w.Prompt}
	i := 0
	for _, n := range batches {
		var calls, results []string
		for _, call := range w.Calls[i:min(i+n, len(w.Calls))] {
			calls = append(calls, ToolCall(call.Tool, call.Args))
			results = append(results, resultText(call.Result))
		}
		i += n
		c.Steps = append(c.Steps, Step{Call: strings.Join(calls, "\n"), Result: strings.Join(results, "\n")})
	}
	c.Steps = append(c.Steps, Step{Call: w.Final})
	return c
}

// resultText is a tool result as a client appends it: a string as is, else compact JSON.
func resultText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonText(v)
}

// CodeModeTexts are what pctx answers in a Code Mode run of a workflow.
type CodeModeTexts struct {
	Tools   string // the three tool definitions, in context form
	Listing string // list_functions result
	Details string // get_function_details result for the workflow's functions
	Result  string // execute_typescript result text
}

// CodeMode models w through pctx: the three tool definitions in every request, a
// list_functions call, a get_function_details call, one execute_typescript call carrying
// the seed's program, its result, then the final answer.
func (w Workflow) CodeMode(t CodeModeTexts) Conversation {
	return Conversation{Tools: t.Tools, Prompt: w.Prompt, Steps: []Step{
		{Call: ToolCall("list_functions", map[string]any{}), Result: t.Listing},
		{Call: ToolCall("get_function_details", map[string]any{"functions": w.Functions}), Result: t.Details},
		{Call: ToolCall("execute_typescript", map[string]any{"code": w.Program}), Result: t.Result},
		{Call: w.Final},
	}}
}

// Payloads are the tool results both models use and the Python worker returns, so the
// sequential bill and the live Code Mode run see the same data.
type Payloads struct {
	Sentiment map[string]float64 `json:"sentiment"`
	Metrics   []map[string]any   `json:"metrics"`
	Search    []map[string]any   `json:"search"`
	Issue     map[string]any     `json:"issue"`
	Churn     map[string]any     `json:"churn"`
	Customer  map[string]any     `json:"customer"`
	Ticket    map[string]any     `json:"ticket"`
}

// metricSeries are the series of the metrics table, one row per series per minute.
var metricSeries = []string{"p99_latency_ms", "error_rate", "requests_per_second", "cpu_utilization"}

// NewPayloads builds deterministic payloads; metricRows is how many rows
// fetch_database_metrics returns ("SELECT * ... last hour": 4 series × 60 minutes = 240).
func NewPayloads(metricRows int) Payloads {
	base := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	metrics := make([]map[string]any, metricRows)
	for i := range metrics {
		series := metricSeries[i%len(metricSeries)]
		minute := i / len(metricSeries)
		var v float64
		switch series {
		case "p99_latency_ms":
			v = float64(380 + (minute*37)%90)
		case "error_rate":
			v = float64(15+(minute*7)%12) / 1000
		case "requests_per_second":
			v = float64(1150 + (minute*53)%300)
		default:
			v = float64(55+(minute*11)%30) / 100
		}
		metrics[i] = map[string]any{
			"name":      series,
			"value":     v,
			"timestamp": base.Add(-time.Duration(minute) * time.Minute).Format(time.RFC3339),
		}
	}
	return Payloads{
		Sentiment: map[string]float64{"positive": 0.08, "negative": 0.82, "neutral": 0.1},
		Metrics:   metrics,
		Search: []map[string]any{
			{"title": "Tuning the query planner", "url": "https://docs.example.com/perf/planner", "relevance": 0.91},
			{"title": "Caching guide", "url": "https://docs.example.com/perf/caching", "relevance": 0.87},
			{"title": "Connection pooling", "url": "https://docs.example.com/perf/pooling", "relevance": 0.79},
			{"title": "Profiling slow endpoints", "url": "https://docs.example.com/perf/profiling", "relevance": 0.74},
			{"title": "Index design", "url": "https://docs.example.com/perf/indexes", "relevance": 0.69},
		},
		// The GitHub MCP server answers create_issue with a minimal {id, url}.
		Issue: map[string]any{"id": "4127", "url": "https://github.com/product/api/issues/4127"},
		Churn: map[string]any{"churn_probability": 0.85, "factors": []any{"low engagement", "payment issues"}},
		// A Stripe customer object with the fields the API returns by default.
		Customer: map[string]any{
			"id": "cust_12345", "object": "customer",
			"address": map[string]any{"city": "London", "country": "GB", "line1": "12 St James's Square", "line2": nil, "postal_code": "SW1Y 4JH", "state": nil},
			"balance": 0, "created": 1680893993, "currency": "gbp", "default_source": nil, "delinquent": true,
			"description": "Enterprise plan since 2023", "discount": nil, "email": "ada@example.com",
			"invoice_prefix": "7D3A1B2C", "invoice_settings": map[string]any{"custom_fields": nil, "default_payment_method": "pm_1OxRkq2eZvKYlo2C", "footer": nil, "rendering_options": nil},
			"livemode": false, "metadata": map[string]any{"account_manager": "j.smith", "segment": "enterprise"},
			"name": "Ada Lovelace", "next_invoice_sequence": 14, "phone": "+44 20 7946 0958",
			"preferred_locales": []any{"en-GB"}, "shipping": nil, "tax_exempt": "none", "test_clock": nil,
		},
		// A Zendesk ticket as the Tickets API returns it after creation (main fields).
		Ticket: map[string]any{
			"id": 35436, "url": "https://example.zendesk.com/api/v2/tickets/35436.json", "external_id": nil,
			"type": "problem", "subject": "High churn risk customer", "raw_subject": "High churn risk customer",
			"description": "High churn risk customer", "priority": "high", "status": "new", "recipient": nil,
			"requester_id": 20978392, "submitter_id": 20978392, "assignee_id": nil, "organization_id": 509974,
			"group_id": 98738, "collaborator_ids": []any{}, "follower_ids": []any{}, "email_cc_ids": []any{},
			"forum_topic_id": nil, "problem_id": nil, "has_incidents": false, "is_public": true, "due_at": nil,
			"tags": []any{"churn_risk"}, "custom_fields": []any{}, "satisfaction_rating": nil,
			"sharing_agreement_ids": []any{}, "via": map[string]any{"channel": "api", "source": map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}},
			"created_at": "2026-11-25T09:00:00Z", "updated_at": "2026-11-25T09:00:00Z",
		},
	}
}

// The seed's two programs, verbatim from the announcement.
const (
	seedProgramSentiment = "// The agent writes this TypeScript code\n// It has no knowledge that some tools run in Python, others via MCP\n// Execute three operations in parallel\nconst [sentiment, metrics, searchResults] = await Promise.all([\ndata.analyze_sentiment(\"Customer feedback from latest release\"), // Python ML model\ndata.fetch_database_metrics(), // Python database query\nsearch.vector_search({ query: \"performance optimization\", top_k: 5 }) // Python vector search\n]);\n// Use the results to make a decision\nif (sentiment.negative > 0.7) {\n// Call an MCP server tool\nawait github.create_issue({\nrepo: \"product/api\",\ntitle: \"Negative sentiment spike detected\",\nbody: `Metrics: ${JSON.stringify(metrics)}\\nRelated docs: ${searchResults.map(r => r.url).join(\", \")}`\n});\n}"
	seedProgramRisk      = "// Parallel execution across Python and MCP\nconst [prediction, customer] = await Promise.all([\nml.predict_churn(\"cust_12345\"),\nstripe.get_customer(\"cust_12345\")\n]);\nif (prediction.churn_probability > 0.8) {\nawait data.update_risk_score(customer.id, prediction.churn_probability);\nawait zendesk.create_ticket({\nsubject: \"High churn risk customer\",\ncustomer: customer.email,\npriority: \"high\"\n});\n}"
)

// SeedWorkflows returns the seed's two workflows over payloads p.
func SeedWorkflows(p Payloads) []Workflow {
	var urls []string
	for _, r := range p.Search {
		urls = append(urls, fmt.Sprint(r["url"]))
	}
	return []Workflow{
		{
			Name:       "sentiment / metrics / search",
			Prompt:     "Check the sentiment of the customer feedback from our latest release, the database metrics of the last hour and our docs on performance optimization. If negative sentiment is above 0.7, open an issue in product/api with the metrics and links to the related docs.",
			Program:    seedProgramSentiment,
			Functions:  []string{"data.analyze_sentiment", "data.fetch_database_metrics", "search.vector_search", "github.create_issue"},
			Namespaces: []string{"data", "search", "github"},
			Batches:    []int{3, 1},
			Calls: []Call{
				{"analyze_sentiment", map[string]any{"text": "Customer feedback from latest release"}, p.Sentiment},
				{"fetch_database_metrics", map[string]any{}, p.Metrics},
				{"vector_search", map[string]any{"query": "performance optimization", "top_k": 5}, p.Search},
				{"create_issue", map[string]any{
					"repo":  "product/api",
					"title": "Negative sentiment spike detected",
					"body":  "Metrics: " + jsonText(p.Metrics) + "\nRelated docs: " + strings.Join(urls, ", "),
				}, p.Issue},
			},
			Final: fmt.Sprintf("Negative sentiment is %.2f (above 0.7), so I opened %v in product/api with the last hour's metrics and %d related docs.", p.Sentiment["negative"], p.Issue["url"], len(urls)),
		},
		{
			Name:       "customer risk",
			Prompt:     "Assess churn risk for customer cust_12345. If the churn probability is above 0.8, record it as the customer's risk score and open a high-priority Zendesk ticket for them.",
			Program:    seedProgramRisk,
			Functions:  []string{"ml.predict_churn", "stripe.get_customer", "data.update_risk_score", "zendesk.create_ticket"},
			Namespaces: []string{"ml", "stripe", "data", "zendesk"},
			Batches:    []int{2, 1, 1},
			Calls: []Call{
				{"predict_churn", map[string]any{"customer_id": "cust_12345"}, p.Churn},
				{"get_customer", map[string]any{"customer_id": "cust_12345"}, p.Customer},
				{"update_risk_score", map[string]any{"customer_id": "cust_12345", "score": 0.85}, nil},
				{"create_ticket", map[string]any{"subject": "High churn risk customer", "customer": p.Customer["email"], "priority": "high"}, p.Ticket},
			},
			Final: fmt.Sprintf("cust_12345 has a churn probability of 0.85 (low engagement, payment issues): I set their risk score to 0.85 and opened high-priority ticket #%v.", p.Ticket["id"]),
		},
	}
}

// StandIns are the MCP tools the seed's programs call beyond its Python tools (GitHub,
// Stripe, Zendesk). No such servers run here, so the Python worker serves them with these
// schemas (shaped like the public servers' tools, trimmed to what the seed's calls need).
func StandIns() []ToolDef {
	return []ToolDef{
		{Namespace: "github", Name: "create_issue", Description: "Create a new issue in a GitHub repository.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"repo":{"type":"string","description":"Repository as owner/name"},"title":{"type":"string","description":"Issue title"},"body":{"type":"string","description":"Issue body content (Markdown)"},"labels":{"type":"array","items":{"type":"string"},"description":"Labels to apply to this issue"},"assignees":{"type":"array","items":{"type":"string"},"description":"Usernames to assign to this issue"}},"required":["repo","title"]}`)},
		{Namespace: "stripe", Name: "get_customer", Description: "Retrieve a customer by id.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"customer_id":{"type":"string","description":"The customer's id (cus_...)"},"expand":{"type":"array","items":{"type":"string"},"description":"Fields to expand, e.g. default_source"}},"required":["customer_id"]}`)},
		{Namespace: "zendesk", Name: "create_ticket", Description: "Create a support ticket.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"subject":{"type":"string","description":"Ticket subject"},"customer":{"type":"string","description":"Requester's email address"},"priority":{"type":"string","enum":["low","normal","high","urgent"],"description":"Ticket priority"},"description":{"type":"string","description":"First comment of the ticket"},"tags":{"type":"array","items":{"type":"string"}}},"required":["subject","customer"]}`)},
	}
}
