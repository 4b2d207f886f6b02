const results = await Promise.allSettled([
  everything.get_sum({ a: 1, b: 2 }),
  stripe.get_customer("cust_missing"),
  tools.get_weather("Kyoto"),
]);
const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
return { ok: results.length - failed.length, reasons: failed.map((f) => String(f.reason.message).slice(0, 40)) };
