// Parallel execution across Python and MCP
const [prediction, customer] = await Promise.all([
ml.predict_churn("cust_12345"),
stripe.get_customer("cust_12345")
]);
if (prediction.churn_probability > 0.8) {
await data.update_risk_score(customer.id, prediction.churn_probability);
await zendesk.create_ticket({
subject: "High churn risk customer",
customer: customer.email,
priority: "high"
});
}
