const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const text = (await filesystem.read_text_file({ path: `${root}/notes/todo.md`, tail: 3 })).content;
const tasks = [...text.matchAll(/- \[( |x)\] (.+)/g)].map((m) => ({ done: m[1] === "x", task: m[2] }));
return tasks.filter((t) => !t.done).map((t) => t.task.replaceAll(" ", "_"));
