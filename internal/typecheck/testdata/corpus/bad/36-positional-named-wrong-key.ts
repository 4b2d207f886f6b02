// expect: 2:31 TS2769
await github.create_issue({ repo: "corpus/bad", title: "36" });
return await ml.predict_churn({ customer: "cust_12345" });
