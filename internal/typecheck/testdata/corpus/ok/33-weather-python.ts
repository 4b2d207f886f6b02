const paris = await tools.get_weather("Paris");
const oslo = await tools.get_weather({ city: "Oslo" });
return [paris, oslo].map((s) => s.toUpperCase());
