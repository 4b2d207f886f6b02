// expect: 2:30 TS2345
await github.create_issue({ repo: "corpus/bad", title: "10" });
await data.update_risk_score("cust_12345");
