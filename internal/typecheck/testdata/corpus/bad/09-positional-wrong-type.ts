// expect: 2:44 TS2345
await github.create_issue({ repo: "corpus/bad", title: "09" });
await data.update_risk_score("cust_12345", "very high");
