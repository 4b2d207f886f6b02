const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const info = await filesystem.get_file_info(`${root}/data/sales.csv`);
const fields = Object.fromEntries(info.content.split("\n").map((l) => l.split(": ", 2) as [string, string]));
return { size: Number(fields.size), isFile: fields.isFile === "true" };
