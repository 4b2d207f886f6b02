const cities = ["New York", "Chicago", "Los Angeles"] as const;
const reports = await Promise.all(cities.map((location) => everything.get_structured_content({ location })));
const avg = reports.reduce((sum, r) => sum + r.temperature, 0) / reports.length;
const humid = reports.filter((r) => r.humidity > 50).length;
return { average: Math.round(avg * 10) / 10, humid, conditions: reports.map((r) => r.conditions) };
