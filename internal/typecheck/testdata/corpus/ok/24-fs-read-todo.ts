const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const file = await filesystem.read_text_file({ path: `${root}/notes/todo.md` });
const open = file.content.split("\n").filter((l) => l.startsWith("- [ ]")).map((l) => l.slice(6));
return { open, done: file.content.split("\n").filter((l) => l.startsWith("- [x]")).length };
