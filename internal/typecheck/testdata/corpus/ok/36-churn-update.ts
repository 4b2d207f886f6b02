const customers = ["cust_12345"];
for (const id of customers) {
  const p = await ml.predict_churn(id);
  const factors: string[] = p.factors ?? [];
  if (p.churn_probability > 0.5) {
    await data.update_risk_score(id, p.churn_probability);
    console.log(`${id}: ${factors.join(", ")}`);
  }
}
return "updated";
