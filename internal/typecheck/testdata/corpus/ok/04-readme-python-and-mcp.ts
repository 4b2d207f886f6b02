const [prediction, customer] = await Promise.all([
  ml.predict_churn("cust_12345"),          // Python, positional arguments
  stripe.get_customer("cust_12345"),       // an MCP server, single-required-argument shortcut
]);
return { churn: prediction.churn_probability, email: customer.email };
