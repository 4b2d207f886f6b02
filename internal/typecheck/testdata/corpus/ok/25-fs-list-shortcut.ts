const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const listing = await filesystem.list_directory(root);
const entries = listing.content.split("\n").map((line) => {
  const m = line.match(/^\[(FILE|DIR)\] (.+)$/);
  return m ? { kind: m[1], name: m[2] } : null;
});
return entries.filter((e) => e !== null && e.kind === "DIR").map((e) => e!.name);
