// expect: 2:7 TS2304
await github.create_issue({ repo: "corpus/bad", title: "31" });
await slack.post_message({ channel: "#ops", text: "done" });
