// expect: 2:29 TS2741
const customer = await stripe.get_customer("cust_12345");
await zendesk.create_ticket({ subject: "Call back", priority: "high" });
return customer;
