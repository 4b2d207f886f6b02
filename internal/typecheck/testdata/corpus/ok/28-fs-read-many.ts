const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const both = await filesystem.read_multiple_files({ paths: [`${root}/notes/todo.md`, `${root}/data/sales.csv`] });
const sections = both.content.split("\n---\n");
return sections.map((s) => s.split("\n")[0]);
