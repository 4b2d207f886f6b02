// From sdk/python/tests/integration/test_seed.py.
const w = await tools.get_weather("Paris");
await data.update_risk_score("cust_12345", 0.42);
const hits = await search.vector_search({ query: "caching", top_k: 1 });
const churn = await ml.predict_churn("cust_1");
return { w, hits, churn };
