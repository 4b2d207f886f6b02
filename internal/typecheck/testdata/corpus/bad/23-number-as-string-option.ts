// expect: 2:76 TS2769
const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const f = await filesystem.read_text_file({ path: root + "/notes/todo.md", head: "10" });
return f.content;
