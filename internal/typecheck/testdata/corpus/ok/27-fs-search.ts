const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const hits = await filesystem.search_files({ path: root, pattern: "todo", excludePatterns: ["out"] });
return hits.content.split("\n").filter((l) => l.endsWith(".md")).length;
