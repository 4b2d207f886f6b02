// expect: 2:45 TS2769
await github.create_issue({ repo: "corpus/bad", title: "19" });
const f = await filesystem.read_text_file({ pth: "/tmp/x" });
return f.content;
