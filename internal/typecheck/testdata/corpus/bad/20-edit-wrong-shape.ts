// expect: 2:71 TS2353
const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
await filesystem.edit_file({ path: root + "/notes/todo.md", edits: [{ old: "a", new: "b" }] });
