const dirs = await filesystem.list_allowed_directories();
const roots = dirs.content.split("\n").slice(1).filter(Boolean);
return roots.length;
