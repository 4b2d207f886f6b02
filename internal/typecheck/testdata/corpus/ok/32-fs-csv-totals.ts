const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const csv = (await filesystem.read_text_file(`${root}/data/sales.csv`)).content.trim();
const [header, ...rows] = csv.split("\n");
const cols = header.split(",");
const records = rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i], v])));
const total = records.reduce((sum, r) => sum + parseFloat(r.amount), 0);
const top = records.toSorted((a, b) => parseFloat(b.amount) - parseFloat(a.amount))[0];
return { total, top: top.region };
