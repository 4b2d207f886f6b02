// expect: 2:49 TS2322
await stripe.get_customer("cust_12345");
await github.create_issue({ repo: "corpus/bad", title: 25 });
