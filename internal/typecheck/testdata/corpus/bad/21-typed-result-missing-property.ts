// expect: 2:26 TS2339
const hits = await search.vector_search({ query: "caching", top_k: 2 });
return hits.map((h) => h.score);
