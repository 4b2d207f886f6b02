const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const path = `${root}/out/report-${Date.now()}.md`;
await filesystem.create_directory(`${root}/out`);
await filesystem.write_file({ path, content: "# Report\n\nAll good.\n" });
const back = await filesystem.read_text_file({ path, head: 1 });
return back.content.trim();
