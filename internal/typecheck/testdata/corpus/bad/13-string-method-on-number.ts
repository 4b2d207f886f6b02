// expect: 2:28 TS2339
const chicago = await everything.get_structured_content("Chicago");
return chicago.temperature.toUpperCase();
