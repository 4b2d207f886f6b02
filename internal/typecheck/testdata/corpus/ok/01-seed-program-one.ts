// The agent writes this TypeScript code
// It has no knowledge that some tools run in Python, others via MCP
// Execute three operations in parallel
const [sentiment, metrics, searchResults] = await Promise.all([
data.analyze_sentiment("Customer feedback from latest release"), // Python ML model
data.fetch_database_metrics(), // Python database query
search.vector_search({ query: "performance optimization", top_k: 5 }) // Python vector search
]);
// Use the results to make a decision
if (sentiment.negative > 0.7) {
// Call an MCP server tool
await github.create_issue({
repo: "product/api",
title: "Negative sentiment spike detected",
body: `Metrics: ${JSON.stringify(metrics)}\nRelated docs: ${searchResults.map(r => r.url).join(", ")}`
});
}
