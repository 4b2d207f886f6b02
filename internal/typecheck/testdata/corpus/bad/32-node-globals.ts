// expect: 2:14 TS2591
// expect: 3:12 TS2591
await github.create_issue({ repo: "corpus/bad", title: "32" });
const home = process.env.HOME;
const fs = require("fs");
return [home, fs];
