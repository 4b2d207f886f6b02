// expect: 3:40 TS2741
async function run() {
  await github.create_issue({ repo: "corpus/bad", title: "37" });
  const sum = await everything.get_sum({ a: 1 });
  return sum;
}
