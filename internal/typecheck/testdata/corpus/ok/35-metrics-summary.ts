const rows = await data.fetch_database_metrics();
const again = await data.fetch_database_metrics({});
const byName: Record<string, number> = {};
for (const row of rows) {
  byName[row.name] = row.value;
}
return { names: Object.keys(byName), stable: rows.length === again.length };
