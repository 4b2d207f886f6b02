// expect: 2:44 TS2554
await github.create_issue({ repo: "corpus/bad", title: "11" });
const w = await tools.get_weather("Paris", "FR");
return w;
