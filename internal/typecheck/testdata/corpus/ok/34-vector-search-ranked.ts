const hits = await search.vector_search({ query: "caching performance", top_k: 3 });
const best = [...hits].sort((a, b) => b.relevance - a.relevance)[0];
return { titles: hits.map((h) => h.title), best: best?.url };
