const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const diff = await filesystem.edit_file({
  path: `${root}/notes/todo.md`,
  edits: [{ oldText: "- [ ] benchmark", newText: "- [x] benchmark" }],
  dryRun: true,
});
return diff.content.includes("+- [x] benchmark");
