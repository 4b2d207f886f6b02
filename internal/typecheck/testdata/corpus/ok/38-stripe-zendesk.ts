const customer = await stripe.get_customer({ customer_id: "cust_12345" });
const ticket = await zendesk.create_ticket({ subject: `Follow up with ${customer.name}`, customer: customer.email });
return { ticket: ticket.id, priority: ticket.priority };
